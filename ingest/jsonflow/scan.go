package jsonflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// kind is the type of a scanned JSON value.
type kind uint8

const (
	kindAbsent kind = iota // no value (a field not in the object)
	kindNull
	kindString
	kindNumber
	kindBool
	kindNested // an object or an array, checked and skipped
)

// value is one scanned JSON value. raw points into the scanned bytes: the
// contents of a string (still escaped when esc), or the text of a number,
// literal or nested value.
type value struct {
	kind kind
	esc  bool
	raw  []byte
}

// scanner walks one JSON object in place. It keeps the first syntax error
// and refuses to go on after it.
type scanner struct {
	b   []byte
	i   int
	err string // first syntax error, "" if none
}

func (s *scanner) fail(format string, args ...any) {
	if s.err == "" {
		s.err = fmt.Sprintf(format, args...) + fmt.Sprintf(" at byte %d", s.i)
	}
}

func (s *scanner) skipSpace() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next byte, or 0 at the end.
func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// expect consumes c or records a syntax error.
func (s *scanner) expect(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	s.unexpected()
	return false
}

func (s *scanner) unexpected() {
	if s.i >= len(s.b) {
		s.fail("unexpected end")
		return
	}
	s.fail("unexpected %q", s.b[s.i])
}

// str scans a string starting at its opening quote.
func (s *scanner) str() (raw []byte, esc bool, ok bool) {
	start := s.i + 1
	rest := s.b[start:]
	q := bytes.IndexByte(rest, '"')
	if q >= 0 && bytes.IndexByte(rest[:q], '\\') < 0 {
		if c := firstControl(rest[:q]); c >= 0 {
			s.i = start + c
			s.fail("control character in string")
			return nil, false, false
		}
		s.i = start + q + 1
		return rest[:q], false, true
	}
	return s.strEscaped(start)
}

// strEscaped scans a string that holds escapes, checking each of them.
func (s *scanner) strEscaped(start int) (raw []byte, esc bool, ok bool) {
	for s.i = start; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true, true
		case c < 0x20:
			s.fail("control character in string")
			return nil, false, false
		case c == '\\':
			n := escapeLen(s.b[s.i:])
			if n == 0 {
				s.fail("bad escape in string")
				return nil, false, false
			}
			s.i += n - 1
		}
	}
	s.fail("unterminated string")
	return nil, false, false
}

func firstControl(b []byte) int {
	for i, c := range b {
		if c < 0x20 {
			return i
		}
	}
	return -1
}

// escapeLen returns the length of the escape sequence at the start of b
// (which starts with a backslash), or 0 if it is not a valid one.
func escapeLen(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if len(b) < 6 {
			return 0
		}
		for _, c := range b[2:6] {
			if hexVal(c) < 0 {
				return 0
			}
		}
		return 6
	}
	return 0
}

func hexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// value scans any JSON value.
func (s *scanner) value() value {
	switch c := s.peek(); {
	case c == '"':
		raw, esc, ok := s.str()
		if !ok {
			return value{}
		}
		return value{kind: kindString, esc: esc, raw: raw}
	case c == '-' || ('0' <= c && c <= '9'):
		return s.number()
	case c == '{' || c == '[':
		return s.nested()
	case c == 't':
		return s.literal("true", kindBool)
	case c == 'f':
		return s.literal("false", kindBool)
	case c == 'n':
		return s.literal("null", kindNull)
	}
	s.unexpected()
	return value{}
}

func (s *scanner) literal(word string, k kind) value {
	if !bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		s.fail("bad literal")
		return value{}
	}
	start := s.i
	s.i += len(word)
	return value{kind: k, raw: s.b[start:s.i]}
}

// number scans a number by the JSON grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() value {
	start := s.i
	if s.peek() == '-' {
		s.i++
	}
	if s.peek() == '0' {
		s.i++
	} else if !s.digits() {
		return value{}
	}
	if s.peek() == '.' {
		s.i++
		if !s.digits() {
			return value{}
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if !s.digits() {
			return value{}
		}
	}
	return value{kind: kindNumber, raw: s.b[start:s.i]}
}

// digits consumes one or more decimal digits.
func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	if s.i == start {
		s.fail("bad number")
		return false
	}
	return true
}

// nested skips an object or array, then checks it with encoding/json (a
// rare path: flow objects are flat).
func (s *scanner) nested() value {
	start := s.i
	n := nestedLen(s.b[start:])
	if n < 0 {
		s.i = len(s.b)
		s.fail("unterminated nested value")
		return value{}
	}
	s.i += n
	if !json.Valid(s.b[start:s.i]) {
		s.fail("bad nested value")
		return value{}
	}
	return value{kind: kindNested, raw: s.b[start:s.i]}
}

// nestedLen returns the length of the object or array at the start of b,
// by bracket depth outside strings, or -1 if it does not end in b.
func nestedLen(b []byte) int {
	depth, inStr, esc := 0, false, false
	for i, c := range b {
		switch {
		case esc:
			esc = false
		case inStr:
			esc = c == '\\'
			inStr = c != '"'
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// appendUnescaped appends the unescaped contents of a JSON string (already
// checked by the scanner) to dst. Bad surrogates become U+FFFD, as in
// encoding/json.
func appendUnescaped(dst, raw []byte) []byte {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' || i+1 >= len(raw) {
			dst = append(dst, c)
			continue
		}
		i++
		switch raw[i] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			var r rune
			r, i = unescapeRune(raw, i)
			dst = utf8.AppendRune(dst, r)
		default:
			dst = append(dst, raw[i])
		}
	}
	return dst
}

// unescapeRune reads the \uXXXX escape whose 'u' is at raw[i] (and a low
// surrogate after it, if any); it returns the rune and the index of the
// escape's last byte.
func unescapeRune(raw []byte, i int) (rune, int) {
	r, ok := hex4(raw[i+1:])
	if !ok {
		return utf8.RuneError, i
	}
	i += 4
	if !utf16.IsSurrogate(r) {
		return r, i
	}
	if i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
		if r2, ok := hex4(raw[i+3:]); ok {
			if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
				return d, i + 6
			}
		}
	}
	return utf8.RuneError, i
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		v := hexVal(c)
		if v < 0 {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}
