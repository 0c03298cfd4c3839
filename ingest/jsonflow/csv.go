package jsonflow

import (
	"bytes"
	"errors"
	"io"
	"slices"

	"github.com/flowcase/flowcase/internal/flow"
)

// CSV with a header line of field names, as nfdump writes it (`nfdump -o
// csv`: ts,te,td,sa,da,sp,dp,pr,flg,...; a "Summary" block ends it) and as
// `flowcase query flows --format csv` does. The columns are read by their
// names, through the same field table as JSON, and go through the same
// readers as JSON strings; an empty value is unset. The header may come
// again (files concatenated). Quoted values lose their quotes, and may hold
// the separator and "" for a quote (RFC 4180, as Kibana's exports quote
// "Mar 2, 2026 @ 10:00:00.000" and "1,234").

// csvHeader returns how each column of the CSV header line at the start
// of head is read and the separator, or nil when head does not start with
// one: names made of letters, digits, '_', '.', '-', '@', spaces, '/', '#'
// and parentheses (quoted or not; space around them is not part of the
// name), separated by commas, or else by '|' (nProbe's dumps), ';', tabs
// or single spaces (AWS VPC Flow Logs), among them a source and a
// destination address. A '#' before the first name is not part of it.
func csvHeader(head []byte) ([]*field, byte) {
	line, _, found := bytes.Cut(head, []byte{'\n'})
	if !found {
		return nil, 0
	}
	line = bytes.TrimSuffix(line, []byte{'\r'})
	if len(line) > 0 && line[0] == '#' {
		line = line[1:]
	}
	sep := byte(' ') // AWS VPC Flow Logs: names separated by single spaces
	for _, c := range []byte{',', '|', ';', '\t'} {
		if bytes.IndexByte(line, c) >= 0 {
			sep = c
			break
		}
	}
	var cols []*field
	var src, dst bool
	known := 0
	var names [][]byte
	for name := range bytes.SplitSeq(line, []byte{sep}) {
		names = append(names, unquote(trimSpace(name)))
	}
	unsw := unswHeader(names)
	for _, name := range names {
		if !isFieldName(name) {
			return nil, 0
		}
		f := fields[string(name)]
		if uf, ok := unswFields[string(name)]; ok && unsw {
			f = uf
		}
		cols = append(cols, f)
		if f != nil {
			known++
			src = src || f.name == "src_ip"
			dst = dst || f.name == "dst_ip"
		}
	}
	if !src || !dst || (sep == ' ' && 2*known < len(cols)) {
		// Words separated by spaces must be mostly field names: a line of
		// prose that mentions src_ip and dst_ip is not a header.
		return nil, 0
	}
	return cols, sep
}

func isFieldName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !('a' <= lower(c) && lower(c) <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-' || c == '@' ||
			c == ' ' || c == '/' || // CICFlowMeter: "Flow Bytes/s"
			c == '#' || c == '(' || c == ')') { // PAN-OS: "Serial #", "Elapsed Time (sec)"
			return false
		}
	}
	return true
}

func unquote(b []byte) []byte {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		return b[1 : len(b)-1]
	}
	return b
}

// maxPreamble is how many lines before a CSV header (a report's title,
// its date, a blank line, as exports from SIEMs and firewalls begin) are
// passed over to find it.
const maxPreamble = 8

// csvPreamble returns how many bytes of lines come before the first CSV
// header line within the first maxPreamble+1 lines of head, with the
// header's columns and separator; -1 when there is none.
func csvPreamble(head []byte) (int, []*field, byte) {
	at, lines := 0, maxPreamble+1
	if len(head) > 0 && head[0] == '#' {
		lines = 1 // Zeek's and W3C's directives: theirs, not a preamble
	}
	for range lines {
		if cols, sep := csvHeader(head[at:]); cols != nil {
			return at, cols, sep
		}
		nl := bytes.IndexByte(head[at:], '\n')
		if nl < 0 {
			break
		}
		at += nl + 1
	}
	return -1, nil, 0
}

// csvStart reads the header line, if the input starts with one (after at
// most maxPreamble lines of preamble, which are passed over).
func (d *Reader) csvStart() bool {
	head, _ := d.br.Peek(d.maxRecord)
	at, cols, sep := csvPreamble(head)
	if at > 0 {
		d.line += bytes.Count(head[:at], []byte{'\n'})
		d.discard(at)
		head = head[at:]
	}
	if cols == nil {
		if first, _, _ := bytes.Cut(head, []byte{'\n'}); unswLine(bytes.TrimSuffix(first, []byte{'\r'})) {
			// UNSW-NB15's records have no header: its columns are known.
			d.format = FormatCSV
			d.cols = columns{sep: ',', fields: true, cols: unswCols(), quoted: true}
			return true
		}
		return false
	}
	line, _, _ := bytes.Cut(head, []byte{'\n'})
	d.format = FormatCSV
	d.cols = columns{sep: sep, fields: true, cols: cols, header: bytes.Clone(trimSpace(line)), quoted: sep != ' '}
	d.noCounters = !slices.ContainsFunc(cols, countsTraffic)
	if sep == ' ' {
		d.cols.unset = []byte("-") // VPC Flow Logs write "-" for no value
	}
	d.discard(len(line) + 1)
	d.line++
	return true
}

// csvLine reads one line after the header: a record, the header again,
// or nfdump's "Summary" line, after which nothing is a flow.
func (d *Reader) csvLine(line []byte, rec *flow.Record, pos int64) bool {
	z := &d.cols
	switch {
	case z.trailer:
		return false
	case bytes.Equal(line, []byte("Summary")):
		z.trailer = true
		return false
	case bytes.Equal(line, z.header):
		return false
	}
	reason, detail := d.dec.decodeColumns(line, z, rec)
	return d.keep(reason, detail, pos)
}

// countsTraffic reports whether a column gives bytes or packets.
func countsTraffic(f *field) bool {
	if f == nil {
		return false
	}
	switch f.kind {
	case fieldTotalBytes, fieldTotalPackets, fieldTotalOnly:
		return true
	}
	switch f.name {
	case "bytes_in", "bytes_out", "packets", "packets_out":
		return true
	}
	return false
}

// csvQuote follows RFC 4180's quoting over the lines of one CSV record: a
// value that begins with a quote (its first byte, as the columns are read)
// runs to the quote that closes it ("" is a quote inside it), line breaks
// included; the closing quote is followed by the separator or the line's
// end, else the quoting is bad (a line cut inside a quoted value, then the
// next record's quote).
type csvQuote struct {
	in    bool // inside a quoted value
	pend  bool // inside one, just after a quote: it closes the value unless another follows
	start bool // at a value's first byte
	bad   bool // a closing quote followed by something else
	sep   byte
}

// feed follows b, and reports whether a quoted value is still open after
// it (the record goes on on the next line).
func (q *csvQuote) feed(b []byte) bool {
	for _, c := range b {
		if q.pend {
			q.pend = false
			if c == '"' { // "" inside the value
				continue
			}
			q.in = false // the quote before c closed it; c is outside
			if c != q.sep && c != '\n' && c != '\r' {
				q.bad = true
			}
		}
		switch {
		case q.in:
			q.pend = c == '"'
		case c == '"' && q.start:
			q.in, q.start = true, false
		case c == q.sep || c == '\n':
			q.start = true
		default:
			q.start = false
		}
	}
	return q.in && !q.pend
}

// follow follows the lines of ahead until the quote closes (end: where its
// line ends) or goes bad (followed: where the line it went bad in ends);
// end is -1 when it does neither, lines how many lines it followed.
func (q *csvQuote) follow(ahead []byte) (end, lines, followed int) {
	for i := 0; i < len(ahead); {
		lineEnd := len(ahead)
		if j := bytes.IndexByte(ahead[i:], '\n'); j >= 0 {
			lineEnd = i + j + 1
		}
		open := q.feed(ahead[i:lineEnd])
		lines++
		if q.bad {
			// A line that opens a quote before this one would go bad
			// here too (a quote open at a line's start is one state),
			// but this one may open a record of its own.
			return -1, lines, lineEnd
		}
		if !open {
			return lineEnd, lines, lineEnd
		}
		i = lineEnd
	}
	return -1, lines, len(ahead)
}

// csvQuoted reads a CSV record whose quoted value breaks the line (first
// is its first line, read): the lines ahead are looked at, not taken,
// until the quote closes as RFC 4180 closes it, within MaxRecord bytes;
// the record is then those lines joined. A quote that does not close so (a
// line cut inside a quoted value, a stray quote) joins nothing: the line
// is read alone, as every line after it, and no record is made of two.
func (d *Reader) csvQuoted(first []byte, q *csvQuote, rec *flow.Record, pos int64) bool {
	buf := append(d.joined[:0], first...)
	defer func() {
		if cap(buf) <= d.maxRecord {
			d.joined = buf[:0]
		}
	}()
	if d.off < d.noJoinUntil {
		// Within what a look-ahead already followed in vain: each line
		// alone (looking again from every line would be quadratic).
		return d.csvLine(trimSpace(buf), rec, pos)
	}
	// The record's last line break is not counted, as a line's is not
	// (a line of MaxRecord bytes and its CRLF is read): the window is 2
	// bytes more, and the record joined is measured without it.
	want, q0 := max(0, d.maxRecord+2-len(buf)), *q
	var ahead []byte
	var end, lines, followed int
	// What is buffered is looked at first, the whole window only when the
	// quote neither closes nor goes bad within it: a Peek past it moves
	// the buffer's unread bytes (up to MaxRecord) to its start, a copy of
	// a megabyte for each record were it done every time.
	for _, n := range []int{min(want, d.br.Buffered()), want} {
		*q = q0
		var err error
		ahead, err = d.br.Peek(n)
		if !errors.Is(err, io.EOF) {
			// Whole lines only: the window's last may be cut by its end.
			ahead = ahead[:bytes.LastIndexByte(ahead, '\n')+1]
		}
		end, lines, followed = q.follow(ahead)
		if end >= 0 || q.bad || n == want {
			break
		}
	}
	one := len(buf) // its first line
	if end >= 0 {
		buf = append(buf, ahead[:end]...)
		if len(trimSpace(buf)) > d.maxRecord {
			end = -1 // past MaxRecord, as a window too short would be
		}
	}
	if end < 0 {
		d.noJoinUntil = d.off + int64(followed)
		return d.csvLine(trimSpace(buf[:one]), rec, pos)
	}
	d.discard(end)
	// Its rejects are placed at its first line.
	startLine := d.line
	d.line += lines
	end2 := d.line
	d.line = startLine
	defer func() { d.line = end2 }()
	return d.csvLine(trimSpace(buf), rec, pos)
}
