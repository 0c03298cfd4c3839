package nfcapd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
)

// The fixtures: nfcapd 1.7.1's file of the softflowd fixtures' flows, and
// the same records with LZO, bzip2 and LZ4 blocks (testdata/nfdump/make.sh).
// ingest's TestCollectorJSON compares their flows with the captures'.
const fixture = "../../testdata/nfdump/softflowd_v5_v9"

var fixtures = []string{fixture + ".nfcapd", fixture + ".lzo.nfcapd", fixture + ".bz2.nfcapd", fixture + ".lz4.nfcapd"}

func readAll(t testing.TB, b []byte) ([]flow.Record, *Reader, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, nil, err
	}
	var out []flow.Record
	var rec flow.Record
	for r.Next(&rec) {
		out = append(out, rec)
	}
	return out, r, nil
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFixtures(t *testing.T) {
	for i, path := range fixtures {
		recs, r, err := readAll(t, mustRead(t, path))
		if err != nil || r.Err() != nil || len(r.Rejects()) != 0 {
			t.Fatalf("%s: %v %v %v", path, err, r.Err(), r.Rejects())
		}
		var bytes, packets uint64
		exporters := map[netip.Addr]uint64{}
		for _, rec := range recs {
			bytes, packets = bytes+rec.Bytes, packets+rec.Packets
			if rec.Exporter.IsValid() {
				exporters[rec.Exporter]++
			}
		}
		if len(exporters) == 0 || !maps.Equal(r.Exporters, exporters) {
			t.Errorf("%s: exporters %v, the records' %v", path, r.Exporters, exporters)
		}
		// nfdump -I of the file: 220 flows, 875 packets, 503,786 bytes.
		if len(recs) != 220 || bytes != 503786 || packets != 875 || r.Header.Compression != uint8([]int{0, 1, 2, 3}[i]) ||
			r.Header.NfdumpVersion>>8&0xFFFFFF != 0x010701 {
			t.Errorf("%s: %d flows, %d bytes, %d packets, header %+v", path, len(recs), bytes, packets, r.Header)
		}
	}
}

// firstElement returns the offset of the first element of the first flow
// record in the first block of the file b.
func firstElement(b []byte) int {
	off := headerSize + blockHeader
	for binary.LittleEndian.Uint16(b[off:]) != recordV3 {
		off += int(binary.LittleEndian.Uint16(b[off+2:]))
	}
	return off + v3HeaderSize
}

// Damaged files: the records before the damage are kept, the rest counted,
// and a block that cannot be followed stops the file with its offset.
func TestDamaged(t *testing.T) {
	plain := mustRead(t, fixtures[0])
	le := binary.LittleEndian
	firstBlock := plain[headerSize : headerSize+blockHeader]
	size := int(le.Uint32(firstBlock[4:]))

	t.Run("cut inside the block", func(t *testing.T) {
		recs, r, err := readAll(t, plain[:headerSize+blockHeader+size/2])
		if err != nil || len(recs) != 0 || r.Err() == nil || !strings.Contains(r.Err().Error(), "offset 40: block of 21412 bytes cut short") ||
			r.Rejects()[ReasonBadBlock] != 223 {
			t.Errorf("got %d flows, err %v, rejects %v", len(recs), r.Err(), r.Rejects())
		}
	})
	t.Run("a block claimed far larger than the file", func(t *testing.T) {
		b := bytes.Clone(plain[:headerSize+blockHeader+100])
		le.PutUint32(b[headerSize+4:], MaxBlock) // 16 MB claimed, 100 bytes there
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, r, err := readAll(t, b)
		runtime.ReadMemStats(&after)
		if err != nil || r.Err() == nil || !strings.Contains(r.Err().Error(), "cut short at 100") {
			t.Errorf("err %v, %v", err, r.Err())
		}
		// The block is read as it comes: what a file holds, not what it
		// claims, is allocated.
		if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
			t.Errorf("reading a file of %d bytes allocated %d bytes", len(b), n)
		}
	})
	t.Run("a record's length past its block", func(t *testing.T) {
		b := bytes.Clone(plain)
		// The 11th record: walk the records to find it.
		off := headerSize + blockHeader
		for range 10 {
			off += int(le.Uint16(b[off+2:]))
		}
		le.PutUint16(b[off+2:], 0xFFF0)
		recs, r, _ := readAll(t, b)
		if r.Err() != nil || len(recs) == 0 || len(recs) >= 220 || r.Rejects()[ReasonBadRecord] == 0 ||
			len(recs)+r.Rejects()[ReasonBadRecord] > 223 {
			t.Errorf("got %d flows, err %v, rejects %v", len(recs), r.Err(), r.Rejects())
		}
		want := fmt.Sprintf("block at offset 40: record at byte %d of the block has size 65520", off-headerSize-blockHeader)
		if len(r.Examples) != 1 || !strings.HasPrefix(r.Examples[0], want) {
			t.Errorf("examples %q, want %q...", r.Examples, want)
		}
	})
	t.Run("an element's length past its record", func(t *testing.T) {
		b := bytes.Clone(plain)
		le.PutUint16(b[firstElement(b)+2:], 0x7FFF) // the first element of the first flow
		recs, r, _ := readAll(t, b)
		if r.Err() != nil || len(recs) != 219 || r.Rejects()[ReasonBadRecord] != 1 {
			t.Errorf("got %d flows, err %v, rejects %v", len(recs), r.Err(), r.Rejects())
		}
	})
	t.Run("a time past 2262", func(t *testing.T) {
		b := bytes.Clone(plain)
		el := firstElement(b)
		if le.Uint16(b[el:]) != exGeneric {
			t.Fatalf("first element %d, want the generic one", le.Uint16(b[el:]))
		}
		// 2^64-1 ms: times that wrapped to any year, kept as plausible.
		le.PutUint64(b[el+4:], math.MaxUint64)
		recs, r, _ := readAll(t, b)
		if r.Err() != nil || len(recs) != 219 || r.Rejects()[ReasonBadTime] != 1 {
			t.Errorf("got %d flows, err %v, rejects %v", len(recs), r.Err(), r.Rejects())
		}
	})
	t.Run("a record without its generic element", func(t *testing.T) {
		b := bytes.Clone(plain)
		le.PutUint16(b[firstElement(b):], 999) // an element flowcase skips by its length
		recs, r, _ := readAll(t, b)
		if r.Err() != nil || len(recs) != 219 || r.Rejects()[ReasonNoGeneric] != 1 {
			t.Errorf("got %d flows, err %v, rejects %v", len(recs), r.Err(), r.Rejects())
		}
	})
	t.Run("a damaged LZ4 block", func(t *testing.T) {
		b := bytes.Clone(mustRead(t, fixtures[3]))
		for i := headerSize + blockHeader + 100; i < headerSize+blockHeader+400; i++ {
			b[i] ^= 0x5A
		}
		recs, r, _ := readAll(t, b)
		if len(recs) != 0 || r.Rejects()[ReasonBadBlock] != 223 {
			t.Errorf("got %d flows, err %v, rejects %v", len(recs), r.Err(), r.Rejects())
		}
		if len(r.Examples) != 1 || !strings.HasPrefix(r.Examples[0], "block at offset 40: 223 records lost: LZ4 block does not decompress: ") {
			t.Errorf("examples %q", r.Examples)
		}
	})
	t.Run("a huge block", func(t *testing.T) {
		b := bytes.Clone(plain)
		le.PutUint32(b[headerSize+4:], MaxBlock+1)
		_, r, _ := readAll(t, b)
		if r.Err() == nil || !strings.Contains(r.Err().Error(), "more than") {
			t.Errorf("err %v", r.Err())
		}
	})
}

func TestNotReadable(t *testing.T) {
	plain := mustRead(t, fixtures[0])
	mod := func(f func(b []byte)) []byte {
		b := bytes.Clone(plain)
		f(b)
		return b
	}
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "file header"},
		{"short", plain[:20], "file header"},
		{"layout 1", mod(func(b []byte) { b[2] = 1 }), "layout 1 (nfdump 1.6"},
		{"big-endian", mod(func(b []byte) { b[0], b[1] = 0xA5, 0x0C }), "big-endian"},
		{"zstd", mod(func(b []byte) { b[16] = 4 }), "ZSTD"},
		{"encrypted", mod(func(b []byte) { b[17] = 1 }), "encrypted"},
		{"not nfdump", []byte("src_ip,dst_ip\n1.2.3.4,5.6.7.8\n1.2.3.4,5.6.7.8\n"), "magic"},
	} {
		_, err := NewReader(bytes.NewReader(c.b))
		if !errors.Is(err, ErrNotNfcapd) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want ErrNotNfcapd saying %q", c.name, err, c.want)
		}
	}
}

// FuzzReader: no input makes the reader panic, loop or allocate beyond its
// block limit; every record it returns has addresses and End >= Start.
func FuzzReader(f *testing.F) {
	for _, p := range fixtures {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, _, err := readAll(t, b)
		if err != nil {
			if !errors.Is(err, ErrNotNfcapd) {
				t.Fatalf("NewReader: %v", err)
			}
			return
		}
		for _, rec := range recs {
			if !rec.SrcAddr.IsValid() || !rec.DstAddr.IsValid() || rec.End < rec.Start {
				t.Fatalf("record %+v", rec)
			}
		}
	})
}

// FuzzLZO: any bytes decompress to at most the limit, or fail; never a
// panic.
func FuzzLZO(f *testing.F) {
	b, err := os.ReadFile(fixtures[1])
	if err != nil {
		f.Fatal(err)
	}
	// The fixture's first block alone (the file's later blocks after it
	// would make the seed a damaged stream), checked whole.
	block := b[headerSize+blockHeader:][:binary.LittleEndian.Uint32(b[headerSize+4:])]
	if out, err := lzo1xDecompress(block, nil, 1<<16); err != nil || len(out) == 0 {
		f.Fatalf("the fixture's block: %d bytes, %v", len(out), err)
	}
	f.Add(block)
	f.Add([]byte{0x11, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := lzo1xDecompress(in, nil, 1<<16)
		if err == nil && len(out) > 1<<16 {
			t.Fatalf("%d bytes out", len(out))
		}
	})
}

func BenchmarkReader(b *testing.B) {
	plain, err := os.ReadFile(fixtures[0])
	if err != nil {
		b.Fatal(err)
	}
	// The fixture's one block 1,000 times: 220,000 flows.
	file := bytes.Clone(plain[:headerSize])
	for range 1000 {
		file = append(file, plain[headerSize:]...)
	}
	b.ResetTimer()
	var n int
	for range b.N {
		r, err := NewReader(bytes.NewReader(file))
		if err != nil {
			b.Fatal(err)
		}
		var rec flow.Record
		for r.Next(&rec) {
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "flows/s")
}
