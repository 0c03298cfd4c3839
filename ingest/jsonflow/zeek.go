package jsonflow

import (
	"bytes"
	"strconv"

	"github.com/flowcase/flowcase/internal/flow"
)

// Zeek's default log writer (TSV): a header of '#' directives, then one
// record per line, its fields split by the separator, "-" for an unset
// field and "(empty)" for an empty one:
//
//	#separator \x09
//	#set_separator	,
//	#empty_field	(empty)
//	#unset_field	-
//	#path	conn
//	#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	...
//	#types	time	string	addr	port	addr	port	enum	...
//	1591367999.305988	CMdzit1AMNsmfAIiQc	192.168.4.76	36844	...
//
// The columns are read by their #fields names, as the same names in JSON
// (Zeek's conn.log: see fields.go); the values go through the JSON
// decoder's readers as strings. A header may come again (logs written one
// after another); columns it does not name are ignored.

const zeekMagic = "#separator "

// columns is the header in force of a Zeek log or a CSV file: how each
// column is read.
type columns struct {
	sep    byte
	quoted bool // CSV: a value may be quoted ("Mar 2, 2026"), with "" for a quote
	unset  []byte
	empty  []byte
	fields bool     // a #fields line was read
	cols   []*field // per column: how it is read, nil to ignore
	// CSV (csv.go): the header line, and whether nfdump's summary began.
	header  []byte
	trailer bool
	// W3C logs (w3c.go): the directives are theirs, and times may be UTC.
	w3c, utc bool
	// path is a Zeek log's #path: only conn's records are flows; the
	// others' are passed over as notFlow says, without being decoded.
	path, notFlow string
}

// zeekStart checks that the input starts with Zeek's #separator line.
func (d *Reader) zeekStart() bool {
	head, _ := d.br.Peek(len(zeekMagic))
	if string(head) != zeekMagic {
		return false
	}
	d.format = FormatZeek
	d.cols = columns{sep: '\t', unset: []byte("-"), empty: []byte("(empty)")}
	return true
}

// zeekLine reads one line: a header directive, or a record.
func (d *Reader) zeekLine(line []byte, rec *flow.Record, pos int64) bool {
	z := &d.cols
	if line[0] == '#' {
		if z.w3c {
			z.w3cDirective(line)
		} else {
			z.directive(line)
		}
		return false
	}
	if !z.fields {
		d.skip(ReasonMalformed, "a record before the #fields header", pos)
		return false
	}
	reason, detail := d.dec.decodeColumns(line, z, rec)
	return d.keep(reason, detail, pos)
}

// directive reads a header line.
func (z *columns) directive(line []byte) {
	if rest, ok := bytes.CutPrefix(line, []byte(zeekMagic)); ok {
		if sep, err := strconv.Unquote(`"` + string(bytes.TrimSpace(rest)) + `"`); err == nil && len(sep) == 1 {
			z.sep = sep[0]
		}
		return
	}
	name, value, _ := bytes.Cut(line, []byte{z.sep})
	switch string(name) {
	case "#unset_field":
		z.unset = bytes.Clone(value)
	case "#empty_field":
		z.empty = bytes.Clone(value)
	case "#path":
		z.path, z.notFlow = string(cut(value)), ""
		if z.path != "" && z.path != "conn" {
			z.notFlow = "zeek " + z.path + ".log record"
		}
	case "#fields":
		z.fields = true
		z.cols = z.cols[:0]
		for col := range bytes.SplitSeq(value, []byte{z.sep}) {
			z.cols = append(z.cols, fields[string(col)])
		}
	}
}

// decodeColumns fills rec from one record line of a Zeek log or CSV file.
func (d *decoder) decodeColumns(line []byte, z *columns, rec *flow.Record) (reason, detail string) {
	d.reset(rec)
	if z.notFlow != "" {
		return ReasonNotFlow, z.notFlow
	}
	i := 0
	for more := true; more && i < len(z.cols); {
		var v []byte
		if z.quoted && len(line) > 0 && line[0] == '"' {
			v, line, more = quotedField(line, z.sep)
		} else {
			v, line, more = bytes.Cut(line, []byte{z.sep})
			v = unquote(v)
		}
		f := z.cols[i]
		i++
		if f == nil || d.reason != "" || bytes.Equal(v, z.unset) {
			continue
		}
		if bytes.Equal(v, z.empty) {
			v = nil
		}
		d.apply(f, value{kind: kindString, raw: v}, rec)
	}
	if z.w3c {
		d.w3cFinish(rec, z.utc)
	}
	return d.finish(rec)
}

// quotedField reads a quoted CSV value at the start of line (RFC 4180:
// separators inside quotes are the value's, "" is a quote) and returns it,
// the rest of the line after its separator and whether there was one. A
// number written with thousands separators ("1,234", as Kibana exports
// them) loses them. The value is a part of line unless it had to change (a
// copy then: values are kept until the record is finished).
func quotedField(line []byte, sep byte) (v, rest []byte, more bool) {
	end, escaped := -1, false
	for i := 1; i < len(line); i++ {
		if line[i] != '"' {
			continue
		}
		if i+1 < len(line) && line[i+1] == '"' {
			escaped = true
			i++
			continue
		}
		end = i
		break
	}
	if end < 0 { // not closed: the rest of the line
		return line[1:], nil, false
	}
	v, rest = line[1:end], line[end+1:]
	if escaped {
		v = bytes.ReplaceAll(v, []byte(`""`), []byte(`"`))
	}
	if groupedNumber(v) {
		v = bytes.ReplaceAll(v, []byte{','}, nil)
	}
	if j := bytes.IndexByte(rest, sep); j >= 0 {
		return v, rest[j+1:], true
	}
	return v, nil, false
}

// groupedNumber reports whether b is digits in groups of three separated
// by commas ("1,234,567").
func groupedNumber(b []byte) bool {
	groups := bytes.Split(b, []byte{','})
	if len(groups) < 2 || len(groups[0]) == 0 || len(groups[0]) > 3 {
		return false
	}
	for i, g := range groups {
		if i > 0 && len(g) != 3 {
			return false
		}
		for _, c := range g {
			if !isDigit(c) {
				return false
			}
		}
	}
	return true
}
