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
		exporters := map[Exporter]uint64{}
		for _, rec := range recs {
			bytes, packets = bytes+rec.Bytes, packets+rec.Packets
			if rec.Exporter.IsValid() {
				exporters[Exporter{rec.Exporter, rec.ObsDomain}]++
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
		// What is not flows is counted: nfdump -E lists the exporter
		// records (the v5 and the v9 softflowd), then the statistics.
		want := map[string]uint64{"exporter records": 2, "exporter statistics records": 1, "ident records": 1, "statistics records": 1}
		if !maps.Equal(r.Skipped, want) {
			t.Errorf("%s: skipped %v, want %v", path, r.Skipped, want)
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
	// The header counts one data block, then the appendix: a file cut
	// where a block ends lost what follows without a word.
	t.Run("cut where a block ends", func(t *testing.T) {
		recs, r, err := readAll(t, plain[:headerSize+blockHeader+size])
		if err != nil || len(recs) != 220 || r.Err() == nil || !strings.Contains(r.Err().Error(), "ends before its appendix") || len(r.Rejects()) != 0 {
			t.Errorf("got %d flows, err %v, rejects %v; want 220 and the cut said", len(recs), r.Err(), r.Rejects())
		}
		b := bytes.Clone(plain)
		le.PutUint32(b[36:], 3) // three data blocks claimed
		if _, r, _ := readAll(t, b); r.Err() == nil || !strings.Contains(r.Err().Error(), "ends after 1 of its 3 data blocks") {
			t.Errorf("blocks missing: err %v", r.Err())
		}
	})
	t.Run("a block's count of records too small", func(t *testing.T) {
		b := bytes.Clone(plain)
		le.PutUint32(b[headerSize:], le.Uint32(b[headerSize:])-10)
		recs, r, _ := readAll(t, b)
		// The block's last 10 records: 9 flows and the exporter statistics.
		if len(recs) != 211 || r.Rejects()[ReasonBadBlock] != 10 || len(r.Examples) != 1 || !strings.Contains(r.Examples[0], "10 records past the 213 its header counts") {
			t.Errorf("got %d flows, rejects %v, examples %q; want 211 and 10 counted", len(recs), r.Rejects(), r.Examples)
		}
	})
	t.Run("a data block of nfdump 1.6's type", func(t *testing.T) {
		b := bytes.Clone(plain)
		le.PutUint16(b[headerSize+8:], blockType2)
		if recs, r, _ := readAll(t, b); len(recs) != 220 || r.Err() != nil || len(r.Rejects()) != 0 {
			t.Errorf("got %d flows, err %v, rejects %v; want 220 (nfdump reads them)", len(recs), r.Err(), r.Rejects())
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

// A hand-built file of what collectors other than softflowd's write: an
// exporter record whose sysid names a v9 source id, a NAT event record
// without flow times (akvorado's NEL: nfdump shows its event time), an
// aggregated record (nfdump -a) marked sampled with an element flowcase
// does not read, and a record whose end precedes its start.
func TestCollectorRecords(t *testing.T) {
	le := binary.LittleEndian
	var recs []byte
	exporter := make([]byte, 32)
	le.PutUint16(exporter, recExporter)
	le.PutUint16(exporter[2:], 32)
	le.PutUint32(exporter[4:], 9)
	le.PutUint32(exporter[16:], 0xC0000201) // 192.0.2.1
	le.PutUint16(exporter[24:], 2)          // AF_INET
	le.PutUint16(exporter[26:], 3)          // sysid
	le.PutUint32(exporter[28:], 77)         // the v9 source id
	recs = append(recs, exporter...)
	element := func(typ uint16, v []byte) []byte {
		return append(le.AppendUint16(le.AppendUint16(nil, typ), uint16(4+len(v))), v...)
	}
	generic := func(first, last uint64) []byte {
		v := make([]byte, genericSize)
		le.PutUint64(v, first)
		le.PutUint64(v[8:], last)
		le.PutUint64(v[24:], 3) // packets
		le.PutUint64(v[32:], 180)
		v[44] = 17
		return element(exGeneric, v)
	}
	ipv4 := element(exIPv4, le.AppendUint32(le.AppendUint32(nil, 0x0A000001), 0x0A000002))
	record := func(flags uint8, els ...[]byte) []byte {
		h := make([]byte, v3HeaderSize)
		le.PutUint16(h, recordV3)
		le.PutUint16(h[4:], uint16(len(els)))
		le.PutUint16(h[8:], 3) // the exporter's sysid
		h[10] = flags
		for _, e := range els {
			h = append(h, e...)
		}
		le.PutUint16(h[2:], uint16(len(h)))
		return h
	}
	const event = 1_749_049_740_450 // 2025-06-04T15:09:00.450Z
	nel := make([]byte, 16)
	le.PutUint64(nel, event)
	counters := make([]byte, countersSize)
	le.PutUint64(counters, 12) // flows
	recs = append(recs, record(0, generic(0, 0), ipv4, element(exNELCommon, nel))...)
	recs = append(recs, record(flagSampled, generic(event, event+1000), ipv4, element(exCounters, counters), element(14, make([]byte, 40)))...)
	recs = append(recs, record(0, generic(event+5000, event), ipv4)...)
	file := make([]byte, headerSize)
	le.PutUint16(file, magic)
	le.PutUint16(file[2:], layout2)
	le.PutUint32(file[4:], 0x01070100)
	le.PutUint32(file[36:], 1)
	block := le.AppendUint16(le.AppendUint16(le.AppendUint32(le.AppendUint32(nil, 4), uint32(len(recs))), blockType3), flagRaw)
	file = append(append(file, block...), recs...)

	got, r, err := readAll(t, file)
	if err != nil || r.Err() != nil || len(got) != 3 || len(r.Rejects()) != 0 {
		t.Fatalf("got %d flows, %v, %v, rejects %v", len(got), err, r.Err(), r.Rejects())
	}
	exp := netip.MustParseAddr("192.0.2.1")
	for i, rec := range got {
		if rec.Exporter != exp || rec.ObsDomain != 77 {
			t.Errorf("record %d: exporter %v domain %d, want 192.0.2.1 and 77 (the exporter record of its sysid)", i, rec.Exporter, rec.ObsDomain)
		}
	}
	if got[0].Start != event*1e6 || got[0].End != event*1e6 {
		t.Errorf("NAT event: [%d, %d], want its event time %d", got[0].Start, got[0].End, int64(event)*1e6)
	}
	if got[2].End != got[2].Start {
		t.Errorf("end before start: [%d, %d], want the end set to the start", got[2].Start, got[2].End)
	}
	if r.EventTimed != 1 || r.Inverted != 1 || r.Aggregated != 1 || r.AggregatedFlows != 12 || r.Sampled != 1 || r.Early != 0 ||
		!maps.Equal(r.Skipped, map[string]uint64{"exporter records": 1, "elements not read: MPLS labels": 1}) ||
		!maps.Equal(r.Exporters, map[Exporter]uint64{{exp, 77}: 3}) {
		t.Errorf("counts: event %d inverted %d aggregated %d (%d flows) sampled %d early %d, skipped %v, exporters %v",
			r.EventTimed, r.Inverted, r.Aggregated, r.AggregatedFlows, r.Sampled, r.Early, r.Skipped, r.Exporters)
	}
}
