package main

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
)

// TestSortRecordRoundTrip: every field of flow.Record, set by reflection to
// a value of its own, survives the spill encoding (a field added to Record
// and not to the encoding fails here).
func TestSortRecordRoundTrip(t *testing.T) {
	var r flow.Record
	v := reflect.ValueOf(&r).Elem()
	addrs := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::2"), netip.MustParseAddr("10.0.0.3"),
		netip.MustParseAddr("2001:db8::4"), netip.MustParseAddr("198.51.100.5"), netip.MustParseAddr("2001:db8::6")}
	for i := range v.NumField() {
		f := v.Field(i)
		switch {
		case f.Type() == reflect.TypeOf(netip.Addr{}):
			f.Set(reflect.ValueOf(addrs[0]))
			addrs = addrs[1:]
		case f.CanInt():
			f.SetInt(int64(1e18) + int64(i))
		case f.CanUint():
			f.SetUint(uint64(i + 1))
		default:
			t.Fatalf("field %s of type %s: not covered by this test", v.Type().Field(i).Name, f.Type())
		}
	}
	if len(addrs) != 0 {
		t.Fatalf("%d addresses left: the record has fewer address fields than the encoding", len(addrs))
	}
	b := appendSortRecord(nil, &r)
	if len(b) != sortRecordLen {
		t.Fatalf("encoded %d bytes, sortRecordLen %d", len(b), sortRecordLen)
	}
	var got flow.Record
	readSortRecord(b, &got)
	if got != r {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, r)
	}
}

// TestRecordSorterRuns: records sorted in runs of 7 spilled to a file and
// merged come out as one stable sort would give them (compareSorted, then
// the order they were added), and the spill file is gone.
func TestRecordSorterRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var in []flow.Record
	for i := range 200 {
		in = append(in, flow.Record{Start: int64(rng.IntN(20)), Bytes: uint64(rng.IntN(10)), SrcPort: uint16(i % 3), SourceID: uint32(i)})
	}
	key := func(r *flow.Record) uint64 { return r.TotalBytes() }
	want := slices.Clone(in)
	slices.SortStableFunc(want, func(a, b flow.Record) int { return compareSorted(key, &a, &b) })
	for _, runLen := range []int{7, 1000} {
		dir := t.TempDir()
		s := newRecordSorter(key, dir)
		s.runLen = runLen
		for i := range in {
			if err := s.add(&in[i]); err != nil {
				t.Fatal(err)
			}
		}
		var got []flow.Record
		if err := s.each(func(r *flow.Record) { got = append(got, *r) }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("runs of %d: the merge differs from a stable sort", runLen)
		}
		if names, _ := os.ReadDir(dir); len(names) != 0 {
			t.Errorf("runs of %d: %d files left in the temporary directory", runLen, len(names))
		}
		if runLen == 7 && len(s.runs) != 29 {
			t.Errorf("runs of 7: %d runs, want 29", len(s.runs))
		}
	}
}
