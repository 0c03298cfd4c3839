package index

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowcase/flowcase/internal/flow"
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

// TestStatusKeys: the complete sources listed from the status keys are
// those the records say, a pending source included; a store without the
// keys (older formats) is listed from its records read-only, and a
// read-write open gives it the keys before marking it with format 5.
func TestStatusKeys(t *testing.T) {
	dir := t.TempDir()
	s := openTemp(t, dir)
	for i := range 3 {
		ingest(t, s, fmt.Sprintf("done-%d", i), []flow.Record{{Start: t0, End: t0, SrcAddr: netip.MustParseAddr("10.0.0.1"), DstAddr: netip.MustParseAddr("10.0.0.2")}})
	}
	w, err := s.BeginSource(SourceInfo{SHA256: [32]byte{7}, Path: "running", Format: "test"})
	if err != nil {
		t.Fatal(err)
	}
	both := func(s *Store) (keys, records map[uint32]bool) {
		t.Helper()
		txn := s.db.NewTransaction(false)
		defer txn.Discard()
		if keys, err = completeByStatusKeys(txn); err != nil {
			t.Fatal(err)
		}
		if records, err = completeByRecords(txn); err != nil {
			t.Fatal(err)
		}
		return keys, records
	}
	keys, records := both(s)
	if len(records) != 3 || !maps.Equal(keys, records) || keys[w.SourceID()] {
		t.Fatalf("complete by status keys %v, by records %v (pending %d)", keys, records, w.SourceID())
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	err = s.db.View(func(txn *badger.Txn) error {
		if _, ok, err := getValue(txn, statusKey(w.SourceID())); ok || err != nil {
			return fmt.Errorf("the aborted source's status key is left (%v)", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// An older store: no status keys, format 4.
	err = s.db.Update(func(txn *badger.Txn) error {
		for id := range records {
			if err := txn.Delete(statusKey(id)); err != nil {
				return err
			}
		}
		return txn.Set(metaKey(metaFormat), binary.BigEndian.AppendUint32(nil, formatStatusKeys-1))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(collect(t, ro, Everything())); n != 3 {
		t.Fatalf("read-only open of the older store: %d rows, want 3", n)
	}
	ro.Close()
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if keys, records := both(s); len(keys) != 3 || !maps.Equal(keys, records) || s.Meta().Format != FormatVersion {
		t.Fatalf("after a read-write open: by status keys %v, by records %v, format %d", keys, records, s.Meta().Format)
	}
	if n := len(collect(t, s, Everything())); n != 3 {
		t.Fatalf("%d rows, want 3", n)
	}
}

// TestSourceHash: one source's SHA-256 read by id is the one the list of
// every source gives, and an unknown id has none.
func TestSourceHash(t *testing.T) {
	s := openTemp(t, t.TempDir())
	for i := range 4 {
		ingest(t, s, fmt.Sprintf("file-%d", i), []flow.Record{{Start: t0, End: t0, SrcAddr: netip.MustParseAddr("10.0.0.1"), DstAddr: netip.MustParseAddr("10.0.0.2")}})
	}
	all, err := s.SourceHashes()
	if err != nil || len(all) != 4 {
		t.Fatalf("%d sources (%v), want 4", len(all), err)
	}
	for id, want := range all {
		if got, err := s.SourceHash(id); err != nil || got != want || len(got) != 64 {
			t.Errorf("source %d: %q (%v), want %q", id, got, err, want)
		}
	}
	if got, err := s.SourceHash(1 << 30); err != nil || got != "" {
		t.Errorf("unknown source: %q (%v), want none", got, err)
	}
}
