package index

import (
	"encoding/json"
	"testing"
)

// TestSourceStatus: the id and status (and the id and SHA-256) picked out of a source record equal
// those of a full decode, whatever its strings hold, and other shapes fall
// back to the full decode.
func TestSourceStatus(t *testing.T) {
	srcs := []Source{
		{ID: 7, Status: StatusComplete, Path: "/cases/a.pcap", SHA256: HashHex([32]byte{1, 2, 3})},
		{ID: 8, SHA256: `ab\"cd`, Path: `"sha256":"x"`},
		{ID: 4294967295, Status: "ingesting", Path: `odd ,"status":"complete" name`},
		{ID: 3, Status: StatusComplete, Path: `q"uote\\`, Rejected: map[string]int64{"status": 2}},
		{ID: 9, Status: `st"at\us`, Extra: json.RawMessage(`{"status":"complete","id":1}`)},
		{ID: 0, Status: ""},
	}
	for _, src := range srcs {
		v, err := json.Marshal(src)
		if err != nil {
			t.Fatal(err)
		}
		id, status, err := sourceStatus(v)
		if err != nil || id != src.ID || status != src.Status {
			t.Errorf("%s: id %d status %q (%v), want %d %q", v, id, status, err, src.ID, src.Status)
		}
		id, sha, err := sourceHash(v)
		if err != nil || id != src.ID || sha != src.SHA256 {
			t.Errorf("%s: id %d sha256 %q (%v), want %d %q", v, id, sha, err, src.ID, src.SHA256)
		}
	}
	for v, want := range map[string]string{
		`{ "id": 5, "status": "complete" }`: StatusComplete, // not json.Marshal's spacing
		`{"status":"complete","id":5}`:      StatusComplete,
		`{"id":5}`:                          "",
	} {
		if id, status, err := sourceStatus([]byte(v)); err != nil || id != 5 || status != want {
			t.Errorf("%s: id %d status %q (%v)", v, id, status, err)
		}
	}
	for v, want := range map[string]string{
		`{ "id": 5, "sha256": "ab" }`: "ab",
		`{"sha256":"ab","id":5}`:      "ab",
		`{"id":5,"path":"p"}`:         "",
	} {
		if id, sha, err := sourceHash([]byte(v)); err != nil || id != 5 || sha != want {
			t.Errorf("%s: id %d sha256 %q (%v)", v, id, sha, err)
		}
	}
	for _, v := range []string{`{"id":`, `{"id":5,"sha256":"ab`} {
		if _, _, err := sourceStatus([]byte(v)); err == nil {
			t.Errorf("%s: a cut record decoded", v)
		}
		if _, _, err := sourceHash([]byte(v)); err == nil {
			t.Errorf("%s: a cut record decoded", v)
		}
	}
}
