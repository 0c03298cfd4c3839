package index

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/flowcase/flowcase/internal/flow"
)

// decode fills d.rows from a block value, decoding only the columns in
// want (the others stay zero): open, then fill every row, as a scan of the
// whole block does.
func (d *blockDecoder) decode(val []byte, want Columns) ([]flow.Record, error) {
	if err := d.open(val); err != nil {
		return nil, err
	}
	rows := d.resetRows(d.n, want)
	return rows, d.fill(want, nil)
}

// sortedRows makes n random records sorted by start, as a segment writer
// hands them to the block encoder.
func sortedRows(rng *rand.Rand, n int) []flow.Record {
	recs := make([]flow.Record, n)
	for i := range recs {
		recs[i] = randRecord(rng)
		if i%3 == 0 { // sparse columns: some rows leave them zero
			recs[i].NATSrcAddr, recs[i].PostBytes = flow.Record{}.NATSrcAddr, 0
		}
	}
	slices.SortStableFunc(recs, func(a, b flow.Record) int { return cmp.Compare(a.Start, b.Start) })
	return recs
}

func ptrs(recs []flow.Record) []*flow.Record {
	p := make([]*flow.Record, len(recs))
	for i := range recs {
		p[i] = &recs[i]
	}
	return p
}

// encodeFormat1 writes a block the way format 1 did: the column directory
// and every column in one zstd frame (codec 1).
func encodeFormat1(rows []*flow.Record) []byte {
	e := newBlockEncoder()
	e.codec = codecColumns // format 1 shares its column layouts
	e.encode(nil, rows)    // fills e.cols
	var raw []byte
	for _, c := range e.cols {
		if allZero(c) {
			raw = binary.AppendUvarint(raw, 0)
		} else {
			raw = binary.AppendUvarint(raw, uint64(len(c)))
		}
	}
	for _, c := range e.cols {
		if !allZero(c) {
			raw = append(raw, c...)
		}
	}
	dst := []byte{codecZstd}
	dst = binary.AppendUvarint(dst, uint64(len(rows)))
	dst = binary.AppendUvarint(dst, uint64(len(raw)))
	return e.z.EncodeAll(raw, dst)
}

// project keeps the fields of r that the columns in want decode.
func project(r flow.Record, want Columns) flow.Record {
	var p flow.Record
	if want&(1<<colStart) != 0 {
		p.Start, p.End = r.Start, r.Start
	}
	if want&(1<<colDuration) != 0 {
		p.End = r.End
	}
	set := func(col int, f func()) {
		if want&(1<<col) != 0 {
			f()
		}
	}
	set(colSrcAddr, func() { p.SrcAddr = r.SrcAddr })
	set(colDstAddr, func() { p.DstAddr = r.DstAddr })
	set(colSrcPort, func() { p.SrcPort = r.SrcPort })
	set(colDstPort, func() { p.DstPort = r.DstPort })
	set(colProto, func() { p.Proto = r.Proto })
	set(colTCPFlags, func() { p.TCPFlags = r.TCPFlags })
	set(colBytes, func() { p.Bytes = r.Bytes })
	set(colPackets, func() { p.Packets = r.Packets })
	set(colRevBytes, func() { p.RevBytes = r.RevBytes })
	set(colRevPackets, func() { p.RevPackets = r.RevPackets })
	set(colPostBytes, func() { p.PostBytes = r.PostBytes })
	set(colPostPackets, func() { p.PostPackets = r.PostPackets })
	set(colICMPType, func() { p.ICMPType = r.ICMPType })
	set(colICMPCode, func() { p.ICMPCode = r.ICMPCode })
	set(colInIf, func() { p.InIf = r.InIf })
	set(colOutIf, func() { p.OutIf = r.OutIf })
	set(colSrcAS, func() { p.SrcAS = r.SrcAS })
	set(colDstAS, func() { p.DstAS = r.DstAS })
	set(colNextHop, func() { p.NextHop = r.NextHop })
	set(colVLAN, func() { p.VLAN = r.VLAN })
	set(colDir, func() { p.Dir = r.Dir })
	set(colNATSrcAddr, func() { p.NATSrcAddr = r.NATSrcAddr })
	set(colNATDstAddr, func() { p.NATDstAddr = r.NATDstAddr })
	set(colNATSrcPort, func() { p.NATSrcPort = r.NATSrcPort })
	set(colNATDstPort, func() { p.NATDstPort = r.NATDstPort })
	set(colExporter, func() { p.Exporter = r.Exporter })
	set(colObsDomain, func() { p.ObsDomain = r.ObsDomain })
	set(colSampling, func() { p.SamplingInterval = r.SamplingInterval })
	set(colSource, func() { p.SourceID = r.SourceID })
	return p
}

// encodeFormat2 writes a block the way format 2 did (codec 2: first-use
// dictionary, fixed-width columns as they are).
func encodeFormat2(rows []*flow.Record) []byte {
	e := newBlockEncoder()
	e.codec = codecColumns
	return e.encode(nil, rows)
}

// TestBlockDecodeSelected: for blocks of every codec written, decoding any column
// set for every row or for a random selection of rows (one pass, or two
// passes as a filtered scan does) gives exactly the encoded fields.
func TestBlockDecodeSelected(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for iter := range 60 {
		n := 1 + rng.IntN(BlockRows)
		if iter%10 == 0 {
			n = BlockRows
		}
		recs := sortedRows(rng, n)
		for i := range recs {
			recs[i].SourceID = uint32(1 + rng.IntN(3))
		}
		if iter%3 == 1 { // small alphabets: palettes of 1 to 40 values
			k := 1 + rng.IntN(40)
			for i := range recs {
				recs[i].DstPort = uint16(80 + rng.IntN(k))
				recs[i].Proto = uint8(6 + 11*rng.IntN(2))
				recs[i].TCPFlags = uint8(rng.IntN(k))
				recs[i].SamplingInterval = 1000      // a constant varint column
				recs[i].SourceID = uint32(1 + i/700) // a few runs
			}
		}
		v3 := newBlockEncoder().encode(nil, ptrs(recs))
		v2 := encodeFormat2(ptrs(recs))
		v1 := encodeFormat1(ptrs(recs))
		if v3[0] != codecPacked || v2[0] != codecColumns || v1[0] != codecZstd {
			t.Fatalf("codecs %d, %d and %d", v3[0], v2[0], v1[0])
		}
		for _, val := range [][]byte{v1, v2, v3} {
			want := Columns(rng.Uint64()) & AllColumns
			if iter%4 == 0 {
				want = AllColumns
			}
			var d blockDecoder
			rows, err := d.decode(val, want)
			if err != nil {
				t.Fatal(err)
			}
			eff := want
			if eff&ColTime != 0 {
				eff |= ColTime
			}
			for i := range recs {
				if p := project(recs[i], eff); rows[i] != p {
					t.Fatalf("iter %d codec %d row %d cols %x:\n got %+v\nwant %+v", iter, val[0], i, want, rows[i], p)
				}
			}
			// Selected rows, in two passes.
			var sel []uint16
			for i := range n {
				if rng.IntN(8) == 0 {
					sel = append(sel, uint16(i))
				}
			}
			first := Columns(rng.Uint64()) & AllColumns
			rest := AllColumns &^ first
			if err := d.open(val); err != nil {
				t.Fatal(err)
			}
			d.resetRows(len(sel), AllColumns)
			if err := d.fill(first, sel); err != nil {
				t.Fatal(err)
			}
			if err := d.fill(rest, sel); err != nil {
				t.Fatal(err)
			}
			for j, s := range sel {
				if d.rows[j] != recs[s] {
					t.Fatalf("iter %d codec %d selected row %d (block row %d):\n got %+v\nwant %+v", iter, val[0], j, s, d.rows[j], recs[s])
				}
			}
		}
	}
}

// TestBlockColumnsCompressedApart: a codec 2 block decompresses only the
// columns asked for, and an all-zero column costs one directory byte.
func TestBlockColumnsCompressedApart(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	recs := sortedRows(rng, 2000)
	for i := range recs {
		recs[i].NATDstAddr, recs[i].VLAN = flow.Record{}.NATDstAddr, 0
	}
	val := newBlockEncoder().encode(nil, ptrs(recs))
	var d blockDecoder
	if err := d.open(val); err != nil {
		t.Fatal(err)
	}
	if d.size[colVLAN] != 0 || d.size[colNATDstAddr] != 0 {
		t.Fatalf("zero columns stored: %d, %d bytes", d.size[colVLAN], d.size[colNATDstAddr])
	}
	d.resetRows(d.n, ColSrcPort|ColBytes)
	if err := d.fill(ColSrcPort|ColBytes, nil); err != nil {
		t.Fatal(err)
	}
	for i := range numColumns {
		asked := i == colSrcPort || i == colBytes || i == colRevBytes
		compressed := d.size[i] != len(d.stored[i])
		if !asked && compressed && d.ready&(1<<i) != 0 {
			t.Errorf("column %d decompressed without being asked for", i)
		}
	}
	if d.ready&(1<<colSrcPort|1<<colBytes) != 1<<colSrcPort|1<<colBytes {
		t.Fatalf("asked columns not ready: %x", d.ready)
	}
	for i := range recs {
		if d.rows[i].SrcPort != recs[i].SrcPort || d.rows[i].Bytes != recs[i].Bytes || d.rows[i].DstPort != 0 {
			t.Fatalf("row %d: %+v", i, d.rows[i])
		}
	}
}

func TestSkipUvarints(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		n := rng.IntN(100)
		var b []byte
		var ends []int
		for range n {
			b = binary.AppendUvarint(b, rng.Uint64N(1<<uint(rng.IntN(64))))
			ends = append(ends, len(b))
		}
		for k := 1; k <= n; k++ {
			got := skipUvarints(b, k)
			if got == nil || len(b)-len(got) != ends[k-1] {
				t.Fatalf("skip %d of %d: at %d, want %d", k, n, len(b)-len(got), ends[k-1])
			}
		}
		if skipUvarints(b, n+1) != nil {
			t.Fatalf("skipping past the end of %d varints did not fail", n)
		}
	}
}

// TestBlockDecodeHostile: damaged block values give ErrCorrupt, never a
// panic or rows.
func TestBlockDecodeHostile(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	recs := sortedRows(rng, 300)
	good := newBlockEncoder().encode(nil, ptrs(recs))
	cases := map[string][]byte{
		"empty":         {},
		"codec 9":       {9, 1, 0},
		"rows too many": binary.AppendUvarint([]byte{codecColumns}, BlockRows+1),
		"truncated":     good[:len(good)/2],
		"no directory":  good[:3],
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)-20] ^= 0xff
	cases["flipped payload byte"] = flipped
	for name, val := range cases {
		var d blockDecoder
		_, err := d.decode(val, AllColumns)
		if err == nil && name != "flipped payload byte" {
			t.Errorf("%s: no error", name)
		}
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
}

// FuzzBlockDecode: any value decodes to rows or fails with ErrCorrupt,
// for every row and for a selection.
func FuzzBlockDecode(f *testing.F) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{1, 7, 100} {
		recs := sortedRows(rng, n)
		f.Add(newBlockEncoder().encode(nil, ptrs(recs)), uint64(AllColumns))
		f.Add(encodeFormat1(ptrs(recs)), uint64(ColAddrs|ColTime))
		f.Add(encodeFormat2(ptrs(recs)), uint64(ColAddrs|ColPorts))
	}
	f.Fuzz(func(t *testing.T, val []byte, cols uint64) {
		var d blockDecoder
		if _, err := d.decode(val, Columns(cols)&AllColumns); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error not ErrCorrupt: %v", err)
		}
		if err := d.open(val); err != nil {
			return
		}
		sel := []uint16{0}
		if d.n > 2 {
			sel = append(sel, uint16(d.n-1))
		}
		if d.n == 0 {
			sel = nil
		}
		d.resetRows(len(sel), AllColumns)
		if err := d.fill(Columns(cols)&AllColumns, sel); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error not ErrCorrupt: %v", err)
		}
	})
}

// TestScanFilterAndEach: a scan with a filter decodes the filter's columns
// first and the asked ones for accepted rows; ScanEach hands the same rows
// to its consumers as Scan does, in whatever split.
func TestScanFilterAndEach(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	recs := randRecords(rng, 25000)
	s := openTemp(t, t.TempDir())
	defer s.Close()
	ingest(t, s, "a", recs[:15000])
	ingest(t, s, "b", recs[15000:])
	key := func(r flow.Record) string { return r.SrcAddr.String() + "/" + strconv.FormatUint(r.Bytes, 10) }
	for i := range 40 {
		q := Query{From: t0 + rng.Int64N(int64(7*24*time.Hour)), Starting: rng.IntN(2) == 0}
		q.To = q.From + rng.Int64N(int64(72*time.Hour))
		if i%5 == 0 {
			q.From, q.To = Everything().From, Everything().To
		}
		limit := rng.Uint64N(1 << 40)
		port := uint16(rng.IntN(70000))
		q.Filter = func(r *flow.Record) bool { return r.Bytes < limit && r.SrcPort < port }
		q.FilterColumns = 1<<colBytes | ColSrcPort
		q.Columns = ColSrcAddr
		var want []string
		for _, r := range recs {
			if inRange(&q, &r) && r.Bytes < limit && r.SrcPort < port {
				want = append(want, key(r))
			}
		}
		var got []string
		if _, err := s.Scan(q, func(r *flow.Record) bool {
			if r.DstPort != 0 || r.Proto != 0 {
				t.Fatalf("columns not asked for were decoded: %+v", r)
			}
			got = append(got, key(*r))
			return true
		}); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var each []string
		if _, err := s.ScanEach(q, 1+rng.IntN(3), func() func(*flow.Record) bool {
			return func(r *flow.Record) bool {
				mu.Lock()
				each = append(each, key(*r))
				mu.Unlock()
				return true
			}
		}); err != nil {
			t.Fatal(err)
		}
		slices.Sort(want)
		slices.Sort(got)
		slices.Sort(each)
		if !slices.Equal(got, want) || !slices.Equal(each, want) {
			t.Fatalf("query %d: Scan %d rows, ScanEach %d, want %d", i, len(got), len(each), len(want))
		}
	}
}

// TestBlockDecoderReuse: a decoder reused for a block with fewer columns
// leaves the fields of the others zero, as a fresh one would.
func TestBlockDecoderReuse(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	a := newBlockEncoder().encode(nil, ptrs(sortedRows(rng, 900)))
	recs := sortedRows(rng, 1000)
	b := newBlockEncoder().encode(nil, ptrs(recs))
	var d blockDecoder
	if _, err := d.decode(a, AllColumns); err != nil {
		t.Fatal(err)
	}
	rows, err := d.decode(b, ColSrcPort)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if rows[i] != (flow.Record{SrcPort: recs[i].SrcPort}) {
			t.Fatalf("row %d holds more than its source port: %+v", i, rows[i])
		}
	}
	// The same columns again: rows are rewritten, not cleared, and equal.
	if rows, err = d.decode(b, ColSrcPort); err != nil || rows[999] != (flow.Record{SrcPort: recs[999].SrcPort}) {
		t.Fatalf("second decode: %v %+v", err, rows[999])
	}
	// Every column, after a block where some columns held values and
	// here are all zero (absent): they read zero.
	for i := range recs {
		recs[i].NATSrcAddr, recs[i].VLAN, recs[i].PostBytes, recs[i].DstAddr = netip.Addr{}, 0, 0, netip.Addr{}
	}
	c := newBlockEncoder().encode(nil, ptrs(recs))
	for _, val := range [][]byte{a, c} {
		if rows, err = d.decode(val, AllColumns); err != nil {
			t.Fatal(err)
		}
	}
	for i := range rows {
		if rows[i] != recs[i] {
			t.Fatalf("row %d after reuse:\n got %+v\nwant %+v", i, rows[i], recs[i])
		}
	}
}

// TestCountMatchesScan: Count, which counts blocks inside the range from
// their headers, gives what Scan hands over, with postings, filters and
// either range kind.
func TestCountMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	recs := randRecords(rng, 30000)
	s := openTemp(t, t.TempDir())
	defer s.Close()
	ingest(t, s, "a", recs[:20000])
	ingest(t, s, "b", recs[20000:])
	// A third source of long flows: its partitions have more late ends
	// than a manifest records.
	long := make([]flow.Record, 4*MaxLateEnds)
	for i := range long {
		long[i] = randRecord(rng)
		long[i].Start = t0 + int64(50*time.Hour) + rng.Int64N(int64(3*time.Hour))
		long[i].End = long[i].Start + int64(2*time.Hour) + rng.Int64N(int64(time.Hour))
	}
	ingest(t, s, "c", long)
	known, unknown := 0, 0
	txn := s.db.NewTransaction(false)
	err := s.forPartitions(txn, Everything(), &ScanStats{}, nil, func(segs []*Manifest) (bool, error) {
		for _, m := range segs {
			if m.LateKnown {
				known++
			} else {
				unknown++
			}
		}
		return true, nil
	})
	txn.Discard()
	if err != nil || known == 0 || unknown == 0 {
		t.Fatalf("segments with late ends recorded: %d, not: %d (%v)", known, unknown, err)
	}
	headerOnly, late := 0, 0
	for i := range 300 {
		q := Query{From: t0 + rng.Int64N(int64(7*24*time.Hour)), Starting: rng.IntN(2) == 0}
		q.To = q.From + rng.Int64N(int64(72*time.Hour))
		switch i % 7 {
		case 0:
			q.From, q.To = Everything().From, Everything().To
		case 4, 6: // whole hours, as investigators ask; some across the long flows
			q.From = t0 + rng.Int64N(7*24)*int64(time.Hour)
			if i%14 == 4 {
				q.From = t0 + (48+rng.Int64N(8))*int64(time.Hour)
			}
			q.To = q.From + (1+rng.Int64N(3))*int64(time.Hour)
		}
		if i%3 == 1 {
			q.Match = randMatch(rng, 2)
		}
		if i%5 == 2 {
			limit := rng.Uint64N(1 << 40)
			q.Filter = func(r *flow.Record) bool { return r.Bytes < limit }
			q.FilterColumns = 1 << colBytes
		}
		var want int64
		if _, err := s.Scan(q, func(*flow.Record) bool { want++; return true }); err != nil {
			t.Fatal(err)
		}
		got, st, err := s.Count(q)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("query %d (%+v): Count %d, Scan %d", i, q, got, want)
		}
		if st.BlocksRead < st.Blocks {
			headerOnly++
		}
		late += st.SegmentsLate
	}
	if headerOnly == 0 || late == 0 {
		t.Fatalf("counts answered from block headers: %d, segments counted from late ends: %d", headerOnly, late)
	}
}

// TestManifestLateEnds: a segment's late ends are the ends after its
// last start, ascending (repeats kept); they survive encoding, count the
// rows of any later range, are left out past MaxLateEnds, and version 1
// manifests (without them) still decode. Damaged sections are ErrCorrupt.
func TestManifestLateEnds(t *testing.T) {
	var rows []*flow.Record
	for _, se := range [][2]int64{{10, 15}, {20, 95}, {30, 120}, {40, 41}, {50, 120}, {100, 101}, {100, 100}} {
		rows = append(rows, &flow.Record{Start: se[0], End: se[1]})
	}
	m := &Manifest{Segment: 4, Partition: 0, Rows: uint32(len(rows)), MinStart: 10, MaxStart: 100, MaxEnd: 120,
		Blocks: []BlockHeader{{Rows: uint32(len(rows))}}}
	m.setLateEnds(rows)
	if !m.LateKnown || !slices.Equal(m.LateEnds, []int64{101, 120, 120}) {
		t.Fatalf("late ends %v (known %v), want [101 120 120]", m.LateEnds, m.LateKnown)
	}
	v := m.Marshal(nil)
	got, err := UnmarshalManifest(v)
	if err != nil || !got.LateKnown || !slices.Equal(got.LateEnds, m.LateEnds) {
		t.Fatalf("decoded late ends %v (known %v, %v)", got.LateEnds, got.LateKnown, err)
	}
	for from, want := range map[int64]int{101: 3, 102: 2, 120: 2, 121: 0, 1 << 40: 0} {
		if n, ok := got.CountLate(from); !ok || n != want {
			t.Errorf("CountLate(%d) = %d, %v; want %d", from, n, ok, want)
		}
	}
	for _, from := range []int64{100, 50, -1} {
		if _, ok := got.CountLate(from); ok {
			t.Errorf("CountLate(%d) answered for a range that holds the segment's starts", from)
		}
	}
	// Version 1: the same bytes without the section.
	v1 := slices.Clone(v[:len(v)-4-3])
	v1[0] = manifestV1
	if got, err := UnmarshalManifest(v1); err != nil || got.LateKnown || got.Blocks[0].Rows != m.Rows {
		t.Fatalf("version 1: known %v, %v", got.LateKnown, err)
	}
	// Too many late ends: not recorded, and nothing counted from them.
	many := make([]*flow.Record, MaxLateEnds+1)
	for i := range many {
		many[i] = &flow.Record{Start: 1, End: 2 + int64(i)}
	}
	big := &Manifest{Rows: uint32(len(many)), MinStart: 1, MaxStart: 1, MaxEnd: int64(len(many)) + 1,
		Blocks: []BlockHeader{{Rows: uint32(len(many))}}}
	big.setLateEnds(many)
	if got, err := UnmarshalManifest(big.Marshal(nil)); err != nil || got.LateKnown || got.LateEnds != nil {
		t.Fatalf("%d late ends: known %v %v", len(many), got.LateKnown, err)
	}
	if _, ok := big.CountLate(5); ok {
		t.Fatal("counted from late ends not recorded")
	}
	head := len(v) - 4 - 3 // the count, then deltas 1, 19, 0
	for name, bad := range map[string][]byte{
		"first end at max start": append(binary.BigEndian.AppendUint32(slices.Clone(v[:head]), 1), 0),
		"end after max end":      append(binary.BigEndian.AppendUint32(slices.Clone(v[:head]), 1), 21),
		"trailing byte":          append(slices.Clone(v), 0),
		"cut":                    v[:len(v)-1],
		"no section":             v[:head],
		"more than the rows":     append(binary.BigEndian.AppendUint32(slices.Clone(v[:head]), 8), 1, 1, 1, 1, 1, 1, 1, 1),
		"unknown, then bytes":    append(binary.BigEndian.AppendUint32(slices.Clone(v[:head]), lateUnknown), 1),
	} {
		if _, err := UnmarshalManifest(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
}

// TestManifestPeek: the owner and times read in place from a manifest
// value are the manifest's.
func TestManifestPeek(t *testing.T) {
	m := &Manifest{Segment: 7, Partition: 3600e9, Source: 5, Owner: 9, Rows: 12,
		MinStart: -5, MaxStart: 1 << 40, MaxEnd: 1<<62 + 3, Blocks: []BlockHeader{{Rows: 12}}}
	v := m.Marshal(nil)
	owner := binary.BigEndian.Uint32(v[manifestOwnerAt:])
	t3 := v[manifestTimesAt:manifestTimesEnd]
	got := [3]int64{int64(binary.BigEndian.Uint64(t3)), int64(binary.BigEndian.Uint64(t3[8:])), int64(binary.BigEndian.Uint64(t3[16:]))}
	if owner != m.Owner || got != [3]int64{m.MinStart, m.MaxStart, m.MaxEnd} {
		t.Fatalf("peeked owner %d times %v, want %d %d %d %d", owner, got, m.Owner, m.MinStart, m.MaxStart, m.MaxEnd)
	}
}

// TestManifestBlocksAddUp: a manifest decodes only when its blocks hold
// consecutive rows, 1 to BlockRows each, adding up to the segment's rows
// (a count read from the headers alone must be the rows decoding finds).
func TestManifestBlocksAddUp(t *testing.T) {
	good := []BlockHeader{{Rows: 4096}, {FirstRow: 4096, Rows: 904}}
	for name, c := range map[string]struct {
		rows   uint32
		blocks []BlockHeader
	}{
		"good":             {5000, nil},
		"no blocks":        {0, []BlockHeader{}},
		"gap":              {5000, []BlockHeader{{Rows: 4096}, {FirstRow: 4097, Rows: 904}}},
		"overlap":          {5000, []BlockHeader{{Rows: 4096}, {FirstRow: 4095, Rows: 905}}},
		"empty block":      {4096, []BlockHeader{{Rows: 4096}, {FirstRow: 4096, Rows: 0}}},
		"block too large":  {5000, []BlockHeader{{Rows: 5000}}},
		"fewer rows":       {4999, nil},
		"more rows":        {5001, nil},
		"rows past uint32": {5000, []BlockHeader{{Rows: 4096}, {FirstRow: 4096, Rows: math.MaxUint32 - 10}}},
	} {
		blocks := c.blocks
		if blocks == nil {
			blocks = good
		}
		m := &Manifest{Segment: 1, Rows: c.rows, MinStart: 1, MaxStart: 2, MaxEnd: 3, Blocks: blocks}
		_, err := UnmarshalManifest(m.Marshal(nil))
		if ok := name == "good" || name == "no blocks"; ok != (err == nil) || err != nil && !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestWriterKeepsSegmentsFull: evidence in time order, with a few late
// rows of each finished hour, is written as full segments and one tail per
// partition; the tails of finished hours are not kept buffered, shrinking
// the room of the hours after them.
func TestWriterKeepsSegmentsFull(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 3.6M rows")
	}
	s := openTemp(t, t.TempDir())
	defer s.Close()
	w, err := s.BeginSource(SourceInfo{SHA256: [32]byte{9}, Path: "dense", Format: "test"})
	if err != nil {
		t.Fatal(err)
	}
	const perHour = 600_000 // two full segments and a tail of 76k rows
	hour := int64(time.Hour)
	a := netip.AddrFrom4([4]byte{10, 0, 0, 1})
	for h := range int64(6) {
		for i := range int64(perHour) {
			r := flow.Record{Start: t0 + h*hour + i*(hour/perHour), SrcAddr: a, DstAddr: a, Proto: 6, Bytes: 1}
			r.End = r.Start
			if i%50000 == 0 && h > 0 {
				r.Start -= hour / 2 // a late row of the hour before
				r.End = r.Start
			}
			if err := w.Add(&r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := w.Commit(SourceResult{}); err != nil {
		t.Fatal(err)
	}
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	err = s.forPartitions(txn, Everything(), &ScanStats{}, nil, func(segs []*Manifest) (bool, error) {
		var rows []uint32
		small := 0
		for _, m := range segs {
			rows = append(rows, m.Rows)
			if int(m.Rows) < s.segRows/2 {
				small++
			}
		}
		// Full segments, a tail, and perhaps the late rows that came after
		// the tail was written.
		var total int
		for _, r := range rows {
			total += int(r)
		}
		if want := (total+s.segRows-1)/s.segRows + 1; len(segs) > want || small > 2 {
			t.Errorf("partition %d: segments of %v rows, want at most %d: full ones and a tail", segs[0].Partition, rows, want)
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// FuzzPostings: any postings value parses or fails with ErrCorrupt, and
// lookups in one that parses never panic and fail only with ErrCorrupt.
func FuzzPostings(f *testing.F) {
	rng := rand.New(rand.NewPCG(17, 18))
	recs := sortedRows(rng, 3000)
	for _, width := range []int{0, 1, 2} {
		b := newPostingsBuilder(width)
		for i := range recs {
			switch width {
			case 0:
				b.addAddr(recs[i].SrcAddr, uint32(i))
			case 1:
				b.addNum(uint32(recs[i].Proto), uint32(i))
			default:
				b.addNum(uint32(recs[i].SrcPort), uint32(i))
			}
		}
		f.Add(b.build(), uint32(rng.IntN(65536)), uint32(rng.IntN(65536)))
	}
	lo4, hi4 := netip.MustParseAddr("10.0.0.0"), netip.MustParseAddr("10.0.255.255")
	lo6, hi6 := netip.MustParseAddr("2001:db8::"), netip.MustParseAddr("2001:db8::ffff")
	f.Fuzz(func(t *testing.T, v []byte, lo, hi uint32) {
		p, err := parsePostings(v)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("parse error not ErrCorrupt: %v", err)
			}
			return
		}
		check := func(err error) {
			if err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("lookup error not ErrCorrupt: %v", err)
			}
		}
		_, err = p.numRange(roaring.New(), min(lo, hi), max(lo, hi), 3000)
		check(err)
		_, err = p.addrRange(roaring.New(), lo4, hi4, 3000)
		check(err)
		_, err = p.addrRange(roaring.New(), lo6, hi6, 3000)
		check(err)
	})
}

// FuzzManifest: any manifest value decodes or fails with ErrCorrupt.
func FuzzManifest(f *testing.F) {
	m := &Manifest{Segment: 3, Partition: 7200e9, Source: 2, Owner: 2, Rows: 5000, MinStart: 1, MaxStart: 2, MaxEnd: 3,
		Blocks: []BlockHeader{{Rows: 4096}, {FirstRow: 4096, Rows: 904}}}
	f.Add(m.Marshal(nil))
	m.LateEnds, m.LateKnown = []int64{3, 3}, true
	f.Add(m.Marshal(nil))
	f.Fuzz(func(t *testing.T, v []byte) {
		if _, err := UnmarshalManifest(v); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error not ErrCorrupt: %v", err)
		}
	})
}
