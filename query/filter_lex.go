package query

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind is the kind of a filter token.
type tokKind uint8

const (
	tokEOF      tokKind = iota
	tokWord             // keyword, address, prefix, number: any run of other characters
	tokLParen           // (
	tokRParen           // )
	tokNot              // !
	tokAnd              // &&
	tokOr               // ||
	tokCmp              // > < = >= <= != (== is read as =)
	tokLBracket         // [ (a list: ip in [ ... ])
	tokRBracket         // ]
	tokComma            // , (between list items; optional)
)

type token struct {
	kind tokKind
	text string // as written ("=" for "==")
	pos  int    // byte offset in the filter
}

// is reports whether t is the keyword kw (case-insensitive).
func (t token) is(kw string) bool {
	return t.kind == tokWord && strings.EqualFold(t.text, kw)
}

// isSpecial reports whether c ends a word.
func isSpecial(c byte) bool {
	switch c {
	case '(', ')', '!', '&', '|', '<', '>', '=', '[', ']', ',':
		return true
	}
	return false
}

// lex splits a filter into tokens; the last one is tokEOF at len(s).
func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			i += size
			continue
		}
		t, err := lexOne(s, i)
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		i = t.pos + t.width(s)
	}
	return append(toks, token{kind: tokEOF, pos: len(s)}), nil
}

// width is the number of bytes t took in s (text may differ: "==" is "=").
func (t token) width(s string) int {
	if t.kind == tokCmp && t.text == "=" && strings.HasPrefix(s[t.pos:], "==") {
		return 2
	}
	return len(t.text)
}

// lexOne reads the token that starts at s[i], which is not a space.
func lexOne(s string, i int) (token, error) {
	two := ""
	if i+1 < len(s) {
		two = s[i : i+2]
	}
	switch c := s[i]; c {
	case '(':
		return token{tokLParen, "(", i}, nil
	case ')':
		return token{tokRParen, ")", i}, nil
	case '[':
		return token{tokLBracket, "[", i}, nil
	case ']':
		return token{tokRBracket, "]", i}, nil
	case ',':
		return token{tokComma, ",", i}, nil
	case '&', '|':
		if two == "&&" {
			return token{tokAnd, "&&", i}, nil
		}
		if two == "||" {
			return token{tokOr, "||", i}, nil
		}
		return token{}, syntaxErr(s, i, "unexpected %q (use %q or %q)", string(c), string(c)+string(c), map[byte]string{'&': "and", '|': "or"}[c])
	case '!':
		if two == "!=" {
			return token{tokCmp, "!=", i}, nil
		}
		return token{tokNot, "!", i}, nil
	case '<', '>':
		if two == "<=" || two == ">=" {
			return token{tokCmp, two, i}, nil
		}
		return token{tokCmp, string(c), i}, nil
	case '=':
		return token{tokCmp, "=", i}, nil
	}
	j := i
	for j < len(s) {
		r, size := utf8.DecodeRuneInString(s[j:])
		if unicode.IsSpace(r) || (size == 1 && isSpecial(s[j])) {
			break
		}
		j += size
	}
	return token{tokWord, s[i:j], i}, nil
}
