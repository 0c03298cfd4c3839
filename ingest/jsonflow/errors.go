package jsonflow

import "errors"

// Fatal errors, wrapped with the offset (and the array index) by Reader.Err.
var (
	// ErrNotJSON: the first byte that is not white space is neither '['
	// nor '{'.
	ErrNotJSON = errors.New("not JSON")
	// ErrWrongFormat: Options.Format names a format the input is not in.
	ErrWrongFormat = errors.New("input is not in the requested format")
	// ErrArrayBroken: a JSON array that cannot be followed to its end
	// (cut short, or an unterminated string or object).
	ErrArrayBroken = errors.New("cannot follow JSON array")
)

// Reject reasons: short stable strings, the keys of Reader.Rejects.
const (
	ReasonMalformed      = "malformed json"
	ReasonNotObject      = "not an object"
	ReasonLineTooLong    = "line too long"    // NDJSON line over MaxRecord bytes
	ReasonElemTooLong    = "element too long" // array element over MaxRecord bytes
	ReasonMissingAddr    = "missing address"
	ReasonBadAddr        = "bad address"
	ReasonPortRange      = "port out of range"
	ReasonBadNumber      = "bad number"
	ReasonNumberRange    = "number out of range" // too big for its field, or negative
	ReasonBadProto       = "bad protocol"
	ReasonBadFlags       = "bad tcp flags"
	ReasonBadDirection   = "bad direction"
	ReasonNoTime         = "no time"
	ReasonNoZone         = "time without zone"
	ReasonBadTime        = "bad time"
	ReasonEndBeforeStart = "end before start"
	ReasonTooOld         = "time before 1990"
	ReasonFuture         = "time in the future"
	// ReasonNotFlow is not a reject: a record of a log that is not a
	// flow (Suricata's alert, dns, http, stats... events in eve.json),
	// counted apart (Reader.NotFlows) and not reported as damage.
	ReasonNotFlow = "not a flow"
)
