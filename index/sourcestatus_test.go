package index

import (
	"encoding/json"
	"testing"
)

// TestSourceStatus: the id and status picked out of a source record equal
// those of a full decode, whatever its strings hold, and other shapes fall
// back to the full decode.
func TestSourceStatus(t *testing.T) {
	srcs := []Source{
		{ID: 7, Status: StatusComplete, Path: "/cases/a.pcap"},
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
	if _, _, err := sourceStatus([]byte(`{"id":`)); err == nil {
		t.Error("a cut record decoded")
	}
}
