// Package jsonout writes JSON for people and their tools to read: as
// encoding/json does, but without escaping <, > and & for HTML, so that a
// filter such as 'bytes > 1M' or a pair's "a -> b" reads (and greps) as
// written.
package jsonout

import (
	"bytes"
	"encoding/json"
	"io"
)

// Marshal is json.Marshal without HTML escaping.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// NewEncoder is json.NewEncoder without HTML escaping, indenting by indent
// when it is not empty.
func NewEncoder(w io.Writer, indent string) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	return enc
}
