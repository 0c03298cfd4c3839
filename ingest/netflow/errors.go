package netflow

import "fmt"

// Reason says why a decoder stopped a packet or skipped a part of it. It is
// also an error, so the sentinel values below can be matched with
// errors.Is, and it indexes the per-reason counters of PacketInfo.Skipped.
type Reason uint8

// Reasons. The Err prefix marks the ones that can stop a packet (returned in
// a *DecodeError); every reason can also be counted as a skipped part.
const (
	reasonNone Reason = iota
	// ErrTruncated: the payload ends before a header, set or record it
	// announces (a snapped capture or a cut datagram).
	ErrTruncated
	// ErrVersion: the first two bytes are not 5, 9 or 10.
	ErrVersion
	// ErrHeader: an export header field is impossible (v5 count 0 or > 30,
	// IPFIX message length < 16).
	ErrHeader
	// ErrSetLength: a v9 FlowSet or IPFIX Set length is shorter than its
	// 4-byte header or runs past the end of the packet.
	ErrSetLength
	// ErrUnknownTemplate: a data set refers to a template not (yet) known
	// for its exporter and domain; the set is returned for parking.
	ErrUnknownTemplate
	// ErrBadTemplate: a template record is malformed (field count 0 in v9,
	// reserved template id, scope count larger than field count, a record
	// cut inside the set).
	ErrBadTemplate
	// ErrTooManyFields: a template claims more than MaxTemplateFields fields.
	ErrTooManyFields
	// ErrFieldLength: a template's records would be empty (every field of
	// length 0), or longer than any datagram can carry.
	ErrFieldLength
	// ErrTooManyTemplates: the cache is full (MaxTemplates); the template
	// was not learned.
	ErrTooManyTemplates
	// ErrRecordTruncated: a data set ends inside a record that is not
	// padding (non-zero bytes shorter than a record, or a variable-length
	// field running past the set).
	ErrRecordTruncated
	// ErrReservedSet: a set id that is neither a template, options
	// template nor data set (v9 2..255, IPFIX 0, 1, 4..255); skipped.
	ErrReservedSet
	// ErrFieldWidth: a field has a width the element cannot have (an IPv4
	// address that is not 4 bytes, a counter wider than 8); the field is
	// ignored, the record kept.
	ErrFieldWidth
	// ErrTimeFromExport: a flow record carries no usable time (or only
	// sysUpTime-relative times without systemInitTimeMilliseconds); Start
	// and End were derived from the export header time.
	ErrTimeFromExport
	// ErrTimeInverted: a flow record's end precedes its start; End was set
	// to Start.
	ErrTimeInverted
	// ErrBadOptions: an options data record could not be used (for example
	// a sampling interval of 0).
	ErrBadOptions
	// ErrExtendedRecord: an sFlow extended record (switch, router or
	// gateway data) is shorter than its structure; it is ignored and its
	// sample kept.
	ErrExtendedRecord

	numReasons
)

// NumReasons is the length of PacketInfo.Skipped.
const NumReasons = int(numReasons)

var reasonText = [numReasons]string{
	reasonNone:          "no reason",
	ErrTruncated:        "truncated",
	ErrVersion:          "unsupported version",
	ErrHeader:           "bad export header",
	ErrSetLength:        "bad set length",
	ErrUnknownTemplate:  "unknown template",
	ErrBadTemplate:      "bad template",
	ErrTooManyFields:    "too many template fields",
	ErrFieldLength:      "bad template field length",
	ErrTooManyTemplates: "template cache full",
	ErrRecordTruncated:  "record cut inside its set",
	ErrReservedSet:      "reserved set id",
	ErrFieldWidth:       "unexpected field width",
	ErrTimeFromExport:   "time taken from export header",
	ErrTimeInverted:     "end before start",
	ErrBadOptions:       "unusable options record",
	ErrExtendedRecord:   "sFlow extended record cut short",
}

// Kept reports whether r counts records that were kept, repaired or placed
// as its text says, rather than parts skipped: ErrTimeFromExport,
// ErrTimeInverted and ErrExtendedRecord.
func (r Reason) Kept() bool {
	return r == ErrTimeFromExport || r == ErrTimeInverted || r == ErrExtendedRecord
}

// String returns a short phrase, stable enough for reports.
func (r Reason) String() string {
	if r < numReasons {
		return reasonText[r]
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// Error makes a Reason usable as a sentinel error.
func (r Reason) Error() string { return "netflow: " + r.String() }

// DecodeError says where and why a packet stopped decoding. Records emitted
// before the error are valid and kept.
type DecodeError struct {
	Version uint16
	Offset  int    // byte offset in the payload of the offending header/set
	SetID   uint16 // set (FlowSet) id, 0 when the error is in the header
	Reason  Reason
	Got     int    // the offending length or value, when there is one
	Want    int    // the limit it broke (bytes available, maximum...), when there is one
	Packet  uint64 // Packet.Number of the export packet
}

func (e *DecodeError) Error() string {
	s := fmt.Sprintf("cannot decode v%d packet %d at offset %d", e.Version, e.Packet, e.Offset)
	if e.Version == VersionSFlow5 {
		s = fmt.Sprintf("cannot decode sFlow v5 datagram %d at offset %d", e.Packet, e.Offset)
	}
	if e.SetID != 0 {
		s += fmt.Sprintf(" (set %d)", e.SetID)
	}
	s += ": " + e.Reason.String()
	if e.Got != 0 || e.Want != 0 {
		s += fmt.Sprintf(": got %d, want %d", e.Got, e.Want)
	}
	return s
}

// Unwrap returns the Reason, so errors.Is(err, ErrSetLength) works.
func (e *DecodeError) Unwrap() error { return e.Reason }
