package jsonout

import (
	"bytes"
	"testing"
)

type inner struct{ Q string }

func (i inner) MarshalJSON() ([]byte, error) { return Marshal(map[string]string{"q": i.Q}) }

// TestNoHTMLEscape: <, > and & stay as written, also in a value whose own
// MarshalJSON uses Marshal, and under NewEncoder's indentation.
func TestNoHTMLEscape(t *testing.T) {
	v := map[string]any{"filter": "bytes > 1M & a -> b <x>", "in": inner{"pps > 10"}}
	b, err := Marshal(v)
	if want := `{"filter":"bytes > 1M & a -> b <x>","in":{"q":"pps > 10"}}`; err != nil || string(b) != want {
		t.Errorf("Marshal: %s, %v; want %s", b, err, want)
	}
	var buf bytes.Buffer
	if err := NewEncoder(&buf, "  ").Encode(v); err != nil {
		t.Fatal(err)
	}
	if want := "{\n  \"filter\": \"bytes > 1M & a -> b <x>\",\n  \"in\": {\n    \"q\": \"pps > 10\"\n  }\n}\n"; buf.String() != want {
		t.Errorf("NewEncoder: %q, want %q", buf.String(), want)
	}
}
