package jsonflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/flowcase/flowcase/internal/flow"
)

// maxNesting is how many open brackets elemState tells apart; deeper ones
// are only counted, so that memory stays bounded on any input.
const maxNesting = 4096

// elemState follows an array element byte by byte: open brackets and
// strings, enough to find the ',' or ']' that ends it even when the
// element itself is bad JSON, without losing the elements after it:
//   - a '}' closes the brackets back to its '{' (a missing ']' inside);
//   - a ']' with no '[' open ends the array (a missing '}' before it);
//   - ",{" or ",[" inside an object cannot be JSON: a '}' is missing, and
//     the comma ends the element.
type elemState struct {
	stack []byte // open brackets, '{' or '['
	deep  int    // open brackets beyond maxNesting, not told apart
	inStr bool
	esc   bool
	comma int // a ',' inside an object, followed so far by white space only; -1 if none
}

// scan scans b, the element's bytes from index base on. It returns the
// index (from the element's start) of the separator that ends the element,
// or -1 when b ends first (the state carries over to the next call).
func (st *elemState) scan(b []byte, base int) int {
	for i := 0; i < len(b); i++ {
		if st.inStr {
			i += st.skipString(b[i:]) - 1
			continue
		}
		c := b[i]
		if st.comma >= 0 && !isSpace(c) {
			if c == '{' || c == '[' {
				return st.comma
			}
			st.comma = -1
		}
		if !structural[c] {
			continue
		}
		if st.structural(c, base+i) {
			return base + i
		}
	}
	return -1
}

// structural is true for the bytes that elemState acts on outside strings.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true, ',': true}

// structural acts on c, at index at of the element, and reports whether
// it ends the element.
func (st *elemState) structural(c byte, at int) bool {
	switch {
	case c == '"':
		st.inStr = true
	case c == '{' || c == '[':
		st.open(c)
	case st.depth() == 0:
		return c == ']' || c == ',' // a stray '}' at depth 0 is part of a bad element
	case c == '}':
		st.close('{')
	case c == ']':
		return !st.close('[')
	case c == ',' && st.deep == 0 && st.stack[len(st.stack)-1] == '{':
		st.comma = at
	}
	return false
}

// skipString consumes string contents up to and including the closing
// quote, and returns how many bytes it consumed (all of b when the string
// goes on).
func (st *elemState) skipString(b []byte) int {
	for i := 0; i < len(b); {
		if st.esc {
			st.esc = false
			i++
			continue
		}
		q := bytes.IndexByte(b[i:], '"')
		seg := b[i:]
		if q >= 0 {
			seg = seg[:q]
		}
		if k := bytes.IndexByte(seg, '\\'); k >= 0 {
			st.esc = true
			i += k + 1
			continue
		}
		if q < 0 {
			break
		}
		st.inStr = false
		return i + q + 1
	}
	return len(b)
}

func (st *elemState) depth() int { return len(st.stack) + st.deep }

func (st *elemState) open(c byte) {
	if st.deep > 0 || len(st.stack) == maxNesting {
		st.deep++
		return
	}
	st.stack = append(st.stack, c)
}

// close pops the open brackets down to the last opener, when there is
// one, and reports whether there was. A '}' without '{' closes them all.
func (st *elemState) close(opener byte) bool {
	if st.deep > 0 {
		st.deep--
		return true
	}
	i := bytes.LastIndexByte(st.stack, opener)
	if i < 0 && opener == '[' {
		return false
	}
	st.stack = st.stack[:max(i, 0)]
	return true
}

// element is one scanned array element, still in the read buffer.
type element struct {
	n        int  // its length (the part after any bytes dropped as too long)
	sep      byte // ',' or ']' after it; 0 when the input ended first
	tooLong  bool // more than MaxRecord bytes: dropped while scanning
	complete bool // its brackets and strings are closed
}

// scanElement finds the end of the element at the read position without
// consuming it. Memory stays bounded: a too long element is dropped as it
// is scanned.
func (d *Reader) scanElement() (element, error) {
	st := elemState{stack: d.stack[:0], comma: -1}
	defer func() { d.stack = st.stack[:0] }()
	var e element
	for {
		buf := d.buffered()
		if i := st.scan(buf[e.n:], e.n); i >= 0 {
			e.n = i
			e.sep, e.complete = buf[e.n], true
			return e, nil
		}
		e.n = len(buf)
		if e.n > d.maxRecord {
			d.discard(e.n)
			e.n, e.tooLong, st.comma = 0, true, -1
		}
		if _, err := d.br.Peek(e.n + 1); err != nil {
			e.complete = st.depth() == 0 && !st.inStr
			return e, err
		}
	}
}

// nextElement reads and decodes one array element. It returns false when
// the element was skipped or the input ended.
func (d *Reader) nextElement(rec *flow.Record) bool {
	if !d.inArray {
		d.afterArray()
		return false
	}
	if _, err := d.skipSpace(); err != nil {
		d.broken(err, "unexpected end of input", d.index, d.off)
		return false
	}
	pos, index := d.off, d.index
	e, err := d.scanElement()
	if err != nil && (!errors.Is(err, io.EOF) || !e.complete) {
		d.broken(err, "unterminated element", index, pos)
		return false
	}
	d.index++
	ok := d.element(d.buffered()[:e.n], e, rec, pos)
	d.discard(e.n)
	switch e.sep {
	case ']':
		d.inArray = false
		d.discard(1)
	case ',':
		d.discard(1)
	default:
		d.broken(io.EOF, "array not closed", d.index, d.off)
	}
	return ok
}

// element decodes the element's bytes b, or skips it.
func (d *Reader) element(b []byte, e element, rec *flow.Record, pos int64) bool {
	b = trimSpace(b)
	switch {
	case e.tooLong:
		d.skip(ReasonElemTooLong, detailf("more than %d bytes", d.maxRecord), pos)
	case len(b) == 0 && e.sep == ']':
		d.index-- // "[]", or a trailing comma: no element
	case len(b) == 0:
		d.skip(ReasonMalformed, "empty element", pos)
	default:
		return d.decode(b, rec, pos)
	}
	return false
}

// afterArray reads past the closing ']': the end of input, or another
// array (concatenated files). After a wrapped array (wrapperStart) the rest
// of the document is not flows: it is read to the end but not parsed.
func (d *Reader) afterArray() {
	if d.wrapped != "" {
		n, err := io.Copy(io.Discard, d.br) // read to the end, unparsed
		d.off += n
		d.stop(err)
		return
	}
	c, err := d.skipSpace()
	switch {
	case err != nil:
		d.stop(err)
	case c == '[':
		d.inArray = true
		d.discard(1)
	default:
		d.stop(fmt.Errorf("%w: unexpected %s after the array's end at offset %d", ErrArrayBroken, byteName(c), d.off))
	}
}

// broken stops the Reader with ErrArrayBroken, or with a read error.
func (d *Reader) broken(err error, why string, index int, offset int64) {
	if !errors.Is(err, io.EOF) {
		d.stop(err)
		return
	}
	d.stop(fmt.Errorf("%w: %s at index %d, offset %d", ErrArrayBroken, why, index, offset))
}

// maxWrapperHead is how far into a document wrapperStart looks for a
// wrapped array of flows.
const maxWrapperHead = 1 << 20

// wrapperStart looks for flows wrapped in a document: one JSON object
// whose top level names no flow field before it holds, in its first
// megabyte and at most three objects deep, an array whose first element is
// a flow record (names a flow field, or holds one in its _source), as API
// exports write them: {"flows": [...]}, {"data": [...], "meta": ...},
// Elasticsearch's search results {"hits": {"hits": [{"_source": ...}]}}.
// When it finds one, the Reader reads that array's elements as a JSON
// array's (FormatArray) and ignores the rest of the document. It returns
// whether it did; it consumes nothing otherwise.
func (d *Reader) wrapperStart() bool {
	head, _ := d.br.Peek(min(maxWrapperHead, d.br.Size()))
	dec := json.NewDecoder(bytes.NewReader(head))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	var path []string
	depth := 1
	for depth > 0 {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		switch t {
		case json.Delim('}'):
			depth--
			path = path[:max(len(path)-1, 0)]
			continue
		}
		key, ok := t.(string)
		if !ok {
			return false
		}
		if depth == 1 && isFlowField(key) {
			return false // a flow record itself: NDJSON
		}
		rest := bytes.TrimLeft(head[dec.InputOffset():], " \t\r\n:")
		switch {
		case len(rest) > 0 && rest[0] == '[' && bytes.HasPrefix(bytes.TrimLeft(rest[1:], " \t\r\n"), []byte("{")):
			if !flowElement(rest[1:]) {
				return false
			}
			at := len(head) - len(rest) + 1 // just after the '['
			d.discard(at)
			d.format, d.inArray, d.wrapped = FormatArray, true, strings.Join(append(path, key), ".")
			return true
		case len(rest) > 0 && rest[0] == '{' && depth < 4:
			if _, err := dec.Token(); err != nil {
				return false
			}
			depth++
			path = append(path, key)
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return false
			}
		}
	}
	return false
}

// flowElement reports whether the array element at the start of b is an
// object that names a flow field, itself or in its _source (an
// Elasticsearch hit).
func flowElement(b []byte) bool {
	var el map[string]json.RawMessage
	if json.NewDecoder(bytes.NewReader(b)).Decode(&el) != nil {
		return false
	}
	for k, v := range el {
		if isFlowField(k) {
			return true
		}
		var src map[string]json.RawMessage
		if k == "_source" && json.Unmarshal(v, &src) == nil {
			for k := range src {
				if isFlowField(k) {
					return true
				}
			}
		}
	}
	return false
}

// isFlowField reports whether a top-level key names a flow field (or an
// object of them, as ECS's "source"): a document with one is a record.
func isFlowField(key string) bool {
	if f, ok := fields[key]; ok && f.kind != fieldIgnore {
		return true
	}
	for k := range fields {
		if strings.HasPrefix(k, key+".") {
			return true
		}
	}
	return false
}
