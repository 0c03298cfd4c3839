package jsonflow

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// MaxRecord is the longest NDJSON line or array element read, in bytes;
// a longer one is rejected ("line too long", "element too long") without
// being held in memory.
const MaxRecord = 1 << 20

// Format is the layout of a JSON flow file.
type Format uint8

const (
	FormatUnknown    Format = iota // not JSON, or not yet known
	FormatArray                    // one JSON array of flow objects
	FormatNDJSON                   // one flow object per line
	FormatZeek                     // a Zeek TSV log (conn.log): '#' header lines, then tab-separated records
	FormatCSV                      // comma-separated values under a header line of field names
	FormatKV                       // key=value pairs, a record per line (FortiGate's logs: kv.go)
	FormatW3C                      // the W3C extended log format (Windows Firewall's pfirewall.log: w3c.go)
	FormatASA                      // Cisco ASA and FTD syslog messages (asa.go)
	FormatSquid                    // Squid's native access.log (squid.go)
	FormatSyslogJSON               // JSON objects behind syslog headers (syslogjson.go)
)

func (f Format) String() string {
	switch f {
	case FormatArray:
		return "json"
	case FormatNDJSON:
		return "ndjson"
	case FormatZeek:
		return "zeek"
	case FormatCSV:
		return "csv"
	case FormatKV:
		return "kv"
	case FormatW3C:
		return "w3c"
	case FormatASA:
		return "asa"
	case FormatSquid:
		return "squid"
	case FormatSyslogJSON:
		return "syslog+json"
	}
	return "unknown"
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// Sniff tells the format from the first bytes of a file: after a UTF-8 BOM,
// Zeek's "#separator " or a W3C "#Version:" header; a first line naming
// flow fields (csvHeader) is CSV; after white space, '[' is an array, '{'
// is NDJSON; else, any of the first lines (anyLine) a key=value record
// (FortiGate, SRX, CEF, LEEF), an ASA message, a Squid access.log line or
// a syslog line ending with a JSON flow object; anything else is
// FormatUnknown.
func Sniff(head []byte) Format {
	head = bytes.TrimPrefix(head, bom)
	if bytes.HasPrefix(head, []byte(zeekMagic)) {
		return FormatZeek
	}
	if bytes.HasPrefix(head, []byte(w3cMagic)) && bytes.Contains(head, []byte("\n#Fields:")) && bytes.Contains(head, []byte("src-ip")) {
		return FormatW3C
	}
	if at, _, _ := csvPreamble(head); at >= 0 {
		return FormatCSV
	}
	if line, _, _ := bytes.Cut(head, []byte{'\n'}); unswLine(bytes.TrimSuffix(line, []byte{'\r'})) {
		return FormatCSV // UNSW-NB15's records, without a header
	}
	first := bytes.TrimLeft(head, " \t\r\n")
	if len(first) == 0 {
		return FormatUnknown
	}
	if f := formatOf(first[0]); f != FormatUnknown && f != FormatZeek {
		return f // JSON; '#' is Zeek's only with its header (above): a Markdown title or a script's comment is not evidence
	}
	for _, c := range lineFormats {
		if anyLine(head, c.is) {
			return c.f
		}
	}
	return FormatUnknown
}

// lineFormats are the logs of one record a line told by any of their first
// lines (anyLine), in the order they are tried.
var lineFormats = []lineFormatTest{{FormatKV, kvLine}, {FormatASA, asaLine}, {FormatSquid, squidLine}, {FormatSyslogJSON, syslogJSONLine}}

type lineFormatTest struct {
	f  Format
	is func([]byte) bool // whether a line is a record of f
}

func formatOf(c byte) Format {
	switch c {
	case '[':
		return FormatArray
	case '{':
		return FormatNDJSON
	case '#':
		return FormatZeek // checked by its header
	}
	return FormatUnknown
}

// sniffLines is how many of a log's first lines are looked at for a record
// of its format: a firewall's export may begin with its other messages.
const sniffLines = 32

// anyLine reports whether one of the first sniffLines whole lines of head
// satisfies is.
func anyLine(head []byte, is func([]byte) bool) bool {
	for n := 0; n < sniffLines; n++ {
		line, rest, found := bytes.Cut(head, []byte{'\n'})
		if !found && n > 0 {
			return false // a line cut by the end of head
		}
		if is(bytes.TrimSuffix(line, []byte{'\r'})) {
			return true
		}
		if !found {
			return false
		}
		head = rest
	}
	return false
}

// Options tune a Reader. The zero value sniffs the format, rejects
// zone-less times and records without a time, and takes Now from the
// clock.
type Options struct {
	// Format of the input; FormatUnknown sniffs it.
	Format Format
	// InputTZ is the zone of date-times written without one; nil
	// rejects them ("time without zone").
	InputTZ *time.Location
	// AssumeTime, in unix ns, is the start of records with no time
	// field (their end is start plus duration); 0 rejects them ("no
	// time"). Reader.Assumed counts the records that took it.
	AssumeTime int64
	// Now is the reference for "time in the future" (more than a day
	// after it); the zero Time means time.Now() when the Reader is made.
	Now time.Time
}

// Reject describes one skipped record, for the error report.
type Reject struct {
	Reason string // one of the Reason constants
	Where  string // "line 12" (NDJSON, from 1) or "index 5" (array, from 0)
	Detail string // the field and value, or the syntax error
	Offset int64  // byte offset of the record's first byte in the input
}

// Reader decodes flow records from a JSON array or NDJSON stream.
type Reader struct {
	// OnReject, when set, is called (from Next) for each skipped record.
	OnReject func(Reject)

	br        *bufio.Reader
	maxRecord int // MaxRecord, smaller in tests
	format    Format
	dec       decoder

	started     bool
	done        bool
	err         error
	off         int64           // bytes consumed
	line        int             // NDJSON: lines read
	index       int             // array: elements read
	inArray     bool            // array: between '[' and ']'
	stack       []byte          // array: open brackets, reused between elements
	cols        columns         // Zeek TSV and CSV: the header in force
	kvTime      []byte          // key=value logs: a date and time joined (kv.go)
	asaConns    map[string]bool // ASA: the connections built and not yet torn down, and whether their "for" side opened them
	asaNotFlows map[int]string  // ASA: the names of the message ids that are not flows (asa.go)
	words       [][]byte        // ASA and Squid: the current line's words
	joined      []byte          // CSV: a record whose quoted value holds line breaks, its lines joined
	noJoinUntil int64           // CSV: the offset a look-ahead for a closing quote followed in vain

	rejects  map[string]int
	notFlows map[string]int // records that are not flows, by kind (ReasonNotFlow)
	rejected int
	accepted int
	assumed  int
	wrapped  string // the path of the array of flows in a wrapping document ("hits.hits"), if any
	swapped  int
	untyped  int
	// noCounters: a CSV header that names no byte or packet column
	// flowcase reads (its flows count nothing).
	noCounters bool
	ignored    map[string]int // unreadable values of optional fields, passed over in accepted records
}

// NewReader returns a Reader of r, which must be decompressed JSON; the
// Reader reads through its own buffer of about MaxRecord bytes.
func NewReader(r io.Reader, opt Options) *Reader {
	return newReader(r, opt, MaxRecord)
}

// newReader makes a Reader whose records are at most maxRecord bytes.
func newReader(r io.Reader, opt Options, maxRecord int) *Reader {
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	return &Reader{
		// The buffer holds a record, plus "\r\n" or a separator.
		br:        bufio.NewReaderSize(r, maxRecord+2),
		maxRecord: maxRecord,
		format:    opt.Format,
		rejects:   make(map[string]int),
		dec: decoder{
			tz:     opt.InputTZ,
			assume: opt.AssumeTime,
			latest: now.Add(24 * time.Hour).UnixNano(),
		},
	}
}

// Next fills rec (reset fully) with the next good record, skipping and
// counting bad ones. It returns false at the end of the input or on a
// fatal error (see Err); rec then holds nothing of use. A Reader is not
// safe for concurrent use.
func (d *Reader) Next(rec *flow.Record) bool {
	if !d.started {
		d.start()
	}
	for !d.done {
		var ok bool
		if d.format == FormatArray {
			ok = d.nextElement(rec)
		} else {
			ok = d.nextLine(rec)
		}
		if ok {
			d.accepted++
			if d.dec.assumed {
				d.assumed++
			}
			if d.dec.swapped {
				d.swapped++
			}
			if d.dec.untyped {
				d.untyped++
			}
			for _, name := range d.dec.ignored {
				if d.ignored == nil {
					d.ignored = map[string]int{}
				}
				d.ignored[name]++
			}
			return true
		}
	}
	return false
}

// Err returns the fatal error that stopped the Reader, or nil after a
// clean end.
func (d *Reader) Err() error { return d.err }

// Rejects returns the number of skipped records by reason (a copy).
func (d *Reader) Rejects() map[string]int {
	return maps.Clone(d.rejects)
}

// NotFlows counts the records that are not flows (Suricata's other events),
// by kind; they are neither flows nor rejects.
func (d *Reader) NotFlows() map[string]int { return d.notFlows }

// Rejected is the number of skipped records.
func (d *Reader) Rejected() int { return d.rejected }

// Accepted is the number of records returned by Next.
func (d *Reader) Accepted() int { return d.accepted }

// Assumed is the number of records returned that took Options.AssumeTime.
func (d *Reader) Assumed() int { return d.assumed }

// Swapped is the number of records returned whose start and end were given
// the wrong way round, as their duration's unsigned wrap showed (nfdump's
// CSV), and were taken swapped.
func (d *Reader) Swapped() int { return d.swapped }

// Ignored returns, by field, how many values of optional fields in accepted
// records could not be read and were passed over.
func (d *Reader) Ignored() map[string]int { return d.ignored }

// NoCounters reports whether the file's CSV header names no byte or packet
// column flowcase reads: every flow's counters are then 0.
func (d *Reader) NoCounters() bool { return d.noCounters && d.accepted > 0 }

// UntypedICMP returns how many accepted ICMP records carried no type or
// code at all (not even in the ports) and were read as echo requests.
func (d *Reader) UntypedICMP() int { return d.untyped }

// Offset is the number of input bytes consumed so far.
func (d *Reader) Offset() int64 { return d.off }

// Wrapped is the path of the array the flows were read from when they came
// wrapped in a document ("flows", "hits.hits"), "" otherwise.
func (d *Reader) Wrapped() string { return d.wrapped }

// Format is the input's format, known after the first call to Next.
func (d *Reader) Format() Format { return d.format }

// start skips a BOM and white space, then checks and sets the format.
func (d *Reader) start() {
	d.started = true
	if head, _ := d.br.Peek(len(bom)); bytes.Equal(head, bom) {
		d.discard(len(bom))
	}
	c, err := d.skipSpace()
	if err != nil {
		d.stop(err) // io.EOF: an empty input holds no records
		return
	}
	got := formatOf(c)
	if (d.format == FormatUnknown && (got == FormatUnknown || got == FormatZeek) || d.format == FormatCSV) && d.csvStart() {
		return // the header line is read
	}
	if (d.format == FormatUnknown && got == FormatZeek || d.format == FormatW3C) && d.w3cStart() {
		return
	}
	lineFormat := slices.ContainsFunc(lineFormats, func(c lineFormatTest) bool { return c.f == d.format })
	if d.format == FormatUnknown && got == FormatUnknown || lineFormat {
		head, _ := d.br.Peek(d.maxRecord)
		for _, c := range lineFormats {
			if (d.format == FormatUnknown || d.format == c.f) && anyLine(head, c.is) {
				d.format = c.f
				return
			}
		}
	}
	switch {
	case d.format == FormatCSV:
		d.stop(fmt.Errorf("%w: the first line at offset %d does not name flow fields separated by commas, '|', ';' or tabs", ErrWrongFormat, d.off))
	case lineFormat:
		d.stop(fmt.Errorf("%w: none of the first %d lines from offset %d is a record of the %v format", ErrWrongFormat, sniffLines, d.off, d.format))
	case got == FormatUnknown:
		d.stop(fmt.Errorf("%w: first byte %s at offset %d is neither '[' nor '{'", ErrNotJSON, byteName(c), d.off))
	case got == FormatZeek && !d.zeekStart():
		d.stop(fmt.Errorf("%w: a '#' line at offset %d, but not Zeek's #separator header", ErrNotJSON, d.off))
	case (d.format == FormatUnknown || d.format == FormatArray || d.format == FormatNDJSON) && got == FormatNDJSON && d.wrapperStart():
		// Flows wrapped in a document ({"flows": [...]}): read as an array.
	case d.format != FormatUnknown && d.format != got:
		d.stop(fmt.Errorf("%w: want %v, input starts with %s at offset %d", ErrWrongFormat, d.format, byteName(c), d.off))
	case got == FormatArray:
		d.format, d.inArray = got, true
		d.discard(1)
	default:
		d.format = got
	}
}

// skipSpace discards white space (counting lines) and returns the next
// byte, not consumed.
func (d *Reader) skipSpace() (byte, error) {
	for {
		if _, err := d.br.Peek(1); err != nil {
			return 0, err
		}
		buf := d.buffered()
		n := 0
		for n < len(buf) && isSpace(buf[n]) {
			if buf[n] == '\n' {
				d.line++
			}
			n++
		}
		d.discard(n)
		if n < len(buf) {
			return buf[n], nil
		}
	}
}

// buffered returns the bytes read ahead, valid until the next read.
func (d *Reader) buffered() []byte {
	b, _ := d.br.Peek(d.br.Buffered())
	return b
}

func (d *Reader) discard(n int) {
	d.br.Discard(n)
	d.off += int64(n)
}

// stop ends the Reader; io.EOF is a clean end, anything else is kept as
// a read error.
func (d *Reader) stop(err error) {
	d.done = true
	switch {
	case err == nil || errors.Is(err, io.EOF):
	case errors.Is(err, ErrNotJSON), errors.Is(err, ErrWrongFormat), errors.Is(err, ErrArrayBroken):
		d.err = err
	default:
		d.err = fmt.Errorf("cannot read input at offset %d: %w", d.off, err)
	}
}

// skip counts a rejected record and reports it; a record that is not a
// flow is counted apart, by kind.
func (d *Reader) skip(reason, detail string, offset int64) {
	if reason == ReasonNotFlow {
		if d.notFlows == nil {
			d.notFlows = map[string]int{}
		}
		d.notFlows[detail]++
		return
	}
	d.rejects[reason]++
	d.rejected++
	if d.OnReject != nil {
		d.OnReject(Reject{Reason: reason, Where: d.where(), Detail: detail, Offset: offset})
	}
}

// where names the current record: "line N" or "index N".
func (d *Reader) where() string {
	if d.format == FormatArray {
		return "index " + strconv.Itoa(d.index-1)
	}
	return "line " + strconv.Itoa(d.line)
}

// byteName writes a byte for an error: 'x' when printable ASCII, else hex.
func byteName(c byte) string {
	if ' ' < c && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	return fmt.Sprintf("0x%02x", c)
}
