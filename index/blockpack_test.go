package index

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
)

// TestPackFixed: a fixed-width column packs into a palette when that is
// smaller, else stays plain, and reads back row by row and whole.
func TestPackFixed(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	e := newBlockEncoder()
	cases := []struct {
		name     string
		width, k int // k distinct values
		n        int
		mode     byte
		bits     uint
	}{
		{"one value", 1, 1, 4096, packPalette, 0},
		{"two values", 1, 2, 4096, packPalette, 1},
		{"sixteen values", 1, 16, 4096, packPalette, 4},
		{"every byte", 1, 256, 4096, packPlain, 0}, // a palette of 8 bits saves nothing
		{"a byte, few rows", 1, 3, 2, packPlain, 0},
		{"ports, 300 values", 2, 300, 4096, packPalette, 9},
		{"ports, 4000 values", 2, 4000, 4096, packPlain, 0},
		{"one port", 2, 1, 1, packPlain, 0},
	}
	for _, c := range cases {
		alphabet := make([]uint64, c.k)
		for i := range alphabet {
			alphabet[i] = uint64(i*7919) % (1 << (8 * c.width))
		}
		want := make([]uint64, c.n)
		var plain []byte
		for i := range want {
			want[i] = alphabet[rng.IntN(c.k)]
			if i < c.k && c.k <= c.n {
				want[i] = alphabet[i] // every value present
			}
			if c.width == 2 {
				plain = binary.BigEndian.AppendUint16(plain, uint16(want[i]))
			} else {
				plain = append(plain, byte(want[i]))
			}
		}
		packed := e.packFixed(nil, plain, c.width)
		if packed[0] != c.mode {
			t.Errorf("%s: mode %d, want %d", c.name, packed[0], c.mode)
			continue
		}
		var d blockDecoder
		p, err := d.parsePacked(packed, c.width, c.n)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var pal []uint64
		for code := range p.k {
			pal = append(pal, p.palValue(code))
		}
		if c.mode == packPalette && (p.w != c.bits || len(pal) != c.k || !slices.IsSorted(pal)) {
			t.Errorf("%s: %d bits, palette of %d (sorted %v), want %d bits, %d", c.name, p.w, len(pal), slices.IsSorted(pal), c.bits, c.k)
		}
		if c.mode == packPalette && len(packed) >= len(plain)+1 {
			t.Errorf("%s: palette of %d bytes for %d plain", c.name, len(packed), len(plain))
		}
		all := make([]uint64, c.n)
		if !p.all(all, &pal) || !slices.Equal(all, want) {
			t.Fatalf("%s: whole column differs", c.name)
		}
		for i := range want {
			if v, ok := p.at(i); !ok || v != want[i] {
				t.Fatalf("%s: row %d = %d, want %d", c.name, i, v, want[i])
			}
		}
		if _, err := d.parsePacked(packed[:len(packed)-1], c.width, c.n); err == nil && len(packed) > 1 {
			t.Errorf("%s: a column one byte short parsed", c.name)
		}
	}
}

// TestPaletteCodeOutOfRange: a code at or beyond the palette size is
// ErrCorrupt, whole or row by row.
func TestPaletteCodeOutOfRange(t *testing.T) {
	// k = 3 values: 2 bits per row, code 3 is invalid.
	col := []byte{packPalette, 3, 10, 20, 30, 0b11_10_01_00}
	var d blockDecoder
	p, err := d.parsePacked(col, 1, 4)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []uint64{10, 20, 30} {
		if v, ok := p.at(i); !ok || v != want {
			t.Fatalf("row %d = %d %v, want %d", i, v, ok, want)
		}
	}
	if _, ok := p.at(3); ok {
		t.Fatal("code 3 of a 3-value palette read")
	}
	if p.all(make([]uint64, 4), new([]uint64)) {
		t.Fatal("whole column with code 3 of a 3-value palette read")
	}
}

// TestGroups: any varint of a grouped stream is found from the table, with
// the sum of those up to it, for streams of every length around the group
// size; the table is skipped for whole decoding.
func TestGroups(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, n := range []int{1, 2, 63, 64, 65, 127, 128, 129, 1000, 4096} {
		vals := make([]uint64, n)
		var data []byte
		for i := range vals {
			vals[i] = rng.Uint64N(1 << uint(rng.IntN(40)))
			data = binary.AppendUvarint(data, vals[i])
		}
		for _, summed := range []bool{false, true} {
			b := appendGroups(nil, data, n, summed)
			var g groups
			if err := g.parse(b, n, summed); err != nil {
				t.Fatal(err)
			}
			var sum uint64
			for i, v := range vals {
				sum += v
				x, s, ok := g.at(i)
				if !ok || x != v || (summed && s != sum) {
					t.Fatalf("n %d summed %v: varint %d = %d (sum %d), want %d (sum %d)", n, summed, i, x, s, v, sum)
				}
			}
			rest, err := skipGroups(b, n, summed)
			if err != nil || string(rest) != string(data) {
				t.Fatalf("n %d summed %v: skipping the table left %d bytes, want %d", n, summed, len(rest), len(data))
			}
			// Data cut short: the last varint is not found.
			if err := g.parse(b[:len(b)-len(data)+len(data)/2], n, summed); err != nil {
				t.Fatal(err)
			}
			if _, _, ok := g.at(n - 1); ok && n > 1 {
				t.Fatalf("n %d: the last varint read from half the data", n)
			}
			if n > groupRows {
				if err := g.parse(b[:len(b)-len(data)-1], n, summed); err == nil {
					t.Fatalf("n %d: a table cut short parsed", n)
				}
			}
		}
	}
}

func TestSumUvarints(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for range 3000 {
		n := rng.IntN(80)
		var b []byte
		var sums []uint64
		var s uint64
		for range n {
			x := rng.Uint64N(1 << uint(rng.IntN(16))) // mostly one- and two-byte varints
			if rng.IntN(10) == 0 {
				x = rng.Uint64N(1 << uint(rng.IntN(64))) // and some longer
			}
			b = binary.AppendUvarint(b, x)
			s += x
			sums = append(sums, s)
		}
		for k := 1; k <= n; k++ {
			got, rest := sumUvarints(b, k)
			if rest == nil || got != sums[k-1] {
				t.Fatalf("sum of %d of %d varints: %d, want %d", k, n, got, sums[k-1])
			}
			if string(rest) != string(skipUvarints(b, k)) {
				t.Fatalf("sum of %d varints stops at %d, skip at %d", k, len(b)-len(rest), len(b)-len(skipUvarints(b, k)))
			}
		}
		if _, rest := sumUvarints(b, n+1); rest != nil {
			t.Fatalf("summing past the end of %d varints did not fail", n)
		}
	}
}

// TestCodec3Dictionary: the dictionary is sorted (IPv4 then IPv6), address
// columns read back through it, and a block of few distinct values keeps
// its selective columns uncompressed, so candidate rows are read without
// decompressing anything.
func TestCodec3Dictionary(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	recs := sortedRows(rng, BlockRows)
	for i := range recs {
		if i%5 == 0 {
			recs[i].SrcAddr = netip.MustParseAddr("2001:db8::1").Next()
			for range rng.IntN(300) {
				recs[i].SrcAddr = recs[i].SrcAddr.Next()
			}
		} else {
			recs[i].SrcAddr = netip.AddrFrom4([4]byte{10, 1, byte(rng.IntN(4)), byte(rng.IntN(256))})
		}
		recs[i].DstPort = []uint16{53, 80, 443, 8080}[rng.IntN(4)]
		recs[i].Proto = flow.ProtoTCP
		recs[i].SourceID = 7
	}
	val := newBlockEncoder().encode(nil, ptrs(recs))
	var d blockDecoder
	if err := d.open(val); err != nil {
		t.Fatal(err)
	}
	for _, col := range []int{colAddrDict, colSrcAddr, colDstAddr, colSrcPort, colDstPort, colProto, colTCPFlags} {
		if d.size[col] != len(d.stored[col]) {
			t.Errorf("column %d compressed (%d of %d bytes)", col, len(d.stored[col]), d.size[col])
		}
	}
	if src, _ := d.column(colSource); len(src) != 5 || src[0] != varintRuns || src[1] != 1 || src[2] != 7 {
		t.Errorf("constant source column stored as %x, want one run of 7", src)
	}
	b, _ := d.column(colAddrDict)
	if err := d.openDict(b, true); err != nil {
		t.Fatal(err)
	}
	var entries []netip.Addr
	for x := 1; x <= d.ndict; x++ {
		entries = append(entries, d.entry(uint64(x)))
	}
	if !slices.IsSortedFunc(entries, func(a, b netip.Addr) int { return a.Compare(b) }) || !entries[0].Is4() || !entries[len(entries)-1].Is6() {
		t.Fatalf("dictionary not sorted IPv4 then IPv6: first %v, last %v", entries[0], entries[len(entries)-1])
	}
	// The same entries found one by one, without decoding the others.
	if err := d.openDict(b, false); err != nil {
		t.Fatal(err)
	}
	for x, want := range entries {
		if got := d.entry(uint64(x + 1)); got != want || d.dictBad {
			t.Fatalf("entry %d found alone: %v, want %v", x+1, got, want)
		}
	}
	sel := []uint16{0, 1, 63, 64, 65, 2000, 4095}
	if err := d.open(val); err != nil {
		t.Fatal(err)
	}
	d.resetRows(len(sel), AllColumns)
	if err := d.fill(AllColumns, sel); err != nil {
		t.Fatal(err)
	}
	for j, s := range sel {
		if d.rows[j] != recs[s] {
			t.Fatalf("row %d:\n got %+v\nwant %+v", s, d.rows[j], recs[s])
		}
	}
}

// TestUvarints: the column decoder reads varints of every length, also in
// the last bytes of a column, as binary.Uvarint does, and fails on a
// column holding fewer than asked.
func TestUvarints(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	for range 200 {
		n := 1 + rng.IntN(300)
		want := make([]uint64, n)
		var b []byte
		for i := range want {
			want[i] = rng.Uint64() >> rng.IntN(64)
			b = binary.AppendUvarint(b, want[i])
		}
		var d blockDecoder
		c := &colReader{b: b}
		if got := d.uvarints(c, n); !slices.Equal(got, want) || len(c.b) != 0 {
			t.Fatalf("%d varints decoded differently (%d bytes left)", n, len(c.b))
		}
		if got := d.uvarints(&colReader{b: b[:len(b)-1]}, n); got != nil {
			t.Fatalf("%d varints read from a column one byte short", n)
		}
	}
}

// TestPaletteMax: paletteMax is the largest palette smaller than the plain
// column, for every row count and width.
func TestPaletteMax(t *testing.T) {
	for _, width := range []int{1, 2} {
		for n := 1; n <= BlockRows; n += 1 + n/7 {
			k := paletteMax(n, width)
			if k > 0 && paletteSize(n, width, k) >= 1+n*width {
				t.Fatalf("n %d width %d: %d values do not fit", n, width, k)
			}
			if k < n && paletteSize(n, width, k+1) < 1+n*width {
				t.Fatalf("n %d width %d: %d values would fit too", n, width, k+1)
			}
		}
	}
	if k := paletteMax(4096, 2); k < 1024 || k >= 2048 {
		t.Fatalf("4096 ports: at most %d distinct for a palette", k)
	}
}

// TestRuns: a varint column of few runs is stored as runs and read back
// whole and row by row; more than maxRuns runs, or runs not smaller than
// the group form, are not; runs that do not cover the block are ErrCorrupt.
func TestRuns(t *testing.T) {
	for _, runs := range []int{1, 2, 7, maxRuns, maxRuns + 1} {
		n := 4000
		var c []byte
		want := make([]uint64, n)
		for i := range want {
			want[i] = uint64(1000 * (i * runs / n))
			c = binary.AppendUvarint(c, want[i])
		}
		groupLen := len(appendGroups([]byte{varintGroups}, c, n, false))
		b, ok := appendRuns(nil, c, n, groupLen)
		if ok != (runs <= maxRuns) {
			t.Fatalf("%d runs: stored as runs %v", runs, ok)
		}
		if !ok {
			continue
		}
		d := blockDecoder{n: n}
		data, err := d.varintData(b)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.uvarints(&colReader{b: data}, n); !slices.Equal(got, want) {
			t.Fatalf("%d runs: whole column differs", runs)
		}
		sel := []uint16{0, 1, 999, 1000, 3999}
		d.rows = make([]flow.Record, len(sel))
		if err := d.selectVarints(colBytes, b, sel); err != nil {
			t.Fatal(err)
		}
		for j, s := range sel {
			if d.rows[j].Bytes != want[s] {
				t.Fatalf("%d runs: row %d = %d, want %d", runs, s, d.rows[j].Bytes, want[s])
			}
		}
		d.n = n + 1 // the runs no longer cover the block
		if _, err := d.varintData(b); err == nil {
			t.Fatalf("%d runs: runs of %d rows read for %d", runs, n, d.n)
		}
	}
	// Values that change on every row: never runs.
	var c []byte
	for i := range 100 {
		c = binary.AppendUvarint(c, uint64(i))
	}
	if _, ok := appendRuns(nil, c, 100, 1<<20); ok {
		t.Fatal("100 runs of one row stored as runs")
	}
}
