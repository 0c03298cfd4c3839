package ingest

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"testing"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/ingest/netflow"
	"github.com/flowcase/flowcase/ingest/pcap"
	"github.com/flowcase/flowcase/internal/flow"
)

// overlapping returns two captures of one v9 exporter (template packet,
// then 10 data packets of 30 flows): a holds packets 0-7, b packets 5-10,
// so 3 data packets of b are in a. It returns the rows of a and those of b
// that a does not hold.
func overlapping(t *testing.T) (a, b string, rowsA, rowsB []flow.Record) {
	e, pkts, rows := dupExporter(t, 9, 10)
	ca, cb := &capBuild{t: t}, &capBuild{t: t}
	ca.send(e, capBase+capHour(3), pkts[:8]...)
	cb.send(e, capBase+capHour(3)+capSec, pkts[5:]...)
	return ca.write("a.pcap"), cb.write("b.pcap"), slices.Concat(rows[:8]...), slices.Concat(rows[8:]...)
}

// seenKeys returns the store's keys of one auxiliary kind.
func seenKeys(t *testing.T, st *index.Store, kind byte) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	if err := st.ScanAux(index.AuxKey(kind, nil), func(k, v []byte) bool {
		out[string(k)] = slices.Clone(v)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDedupChunks: the packets a capture decoded are remembered in one
// chunk per exporter domain and sequence bucket, naming the source.
func TestDedupChunks(t *testing.T) {
	a, _, rowsA, _ := overlapping(t)
	st := capStore(t)
	src, _ := capSource(t, st, capIngest(t, st, a).Files[0])
	if len(rowsA) != 7*30 {
		t.Fatalf("got %d rows in a, want 210", len(rowsA))
	}
	chunks := seenKeys(t, st, auxSeenChunk)
	if len(chunks) != 1 {
		t.Fatalf("got %d chunks, want 1", len(chunks))
	}
	for k, v := range chunks {
		if len(k) != 2+domainIDLen+4+4+4 || binary.BigEndian.Uint32([]byte(k[2+domainIDLen+4:])) != src.ID {
			t.Errorf("got chunk key %x, want 39 bytes naming source %d", k, src.ID)
		}
		if len(v) != 8*seenEntryLen { // the template packet and 7 data packets
			t.Errorf("got %d bytes of entries, want %d", len(v), 8*seenEntryLen)
		}
	}
	if n := len(seenKeys(t, st, auxSeen)); n != 0 {
		t.Errorf("got %d one-packet keys, want none", n)
	}
}

// TestDedupPacketKeys: a store written before the chunks (one key per
// packet) still makes the overlapping packets of a later capture
// duplicates.
func TestDedupPacketKeys(t *testing.T) {
	a, b, rowsA, rowsB := overlapping(t)
	st := capStore(t)
	srcA, _ := capSource(t, st, capIngest(t, st, a).Files[0])
	// Rewrite a's chunks as the older keys, one per packet, and drop the
	// chunks (in the completing transaction of an empty source).
	chunks := seenKeys(t, st, auxSeenChunk)
	batch, err := st.NewAuxBatch()
	if err != nil {
		t.Fatal(err)
	}
	var drop [][]byte
	for k, v := range chunks {
		var id packetID
		copy(id.domain[:], k[2:])
		source := []byte(k[2+domainIDLen+4 : 2+domainIDLen+8])
		for ; len(v) > 0; v = v[seenEntryLen:] {
			id.seq, id.hash = binary.BigEndian.Uint32(v), binary.BigEndian.Uint64(v[4:])
			if err := batch.Set(packetKey(&id), binary.BigEndian.AppendUint64(slices.Clone(source), id.hash)); err != nil {
				t.Fatal(err)
			}
		}
		drop = append(drop, []byte(k))
	}
	if err := batch.Flush(); err != nil {
		t.Fatal(err)
	}
	w, err := st.BeginSource(index.SourceInfo{SHA256: [32]byte{1}, Path: "empty", Format: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(index.SourceResult{AuxDelete: drop}); err != nil {
		t.Fatal(err)
	}
	if n, m := len(seenKeys(t, st, auxSeenChunk)), len(seenKeys(t, st, auxSeen)); n != 0 || m != 8 {
		t.Fatalf("got %d chunks and %d packet keys, want 0 and 8", n, m)
	}
	srcB, x := capSource(t, st, capIngest(t, st, b).Files[0])
	if x.DuplicatePackets != 3 || srcB.Flows != int64(len(rowsB)) {
		t.Errorf("second capture: got %d duplicate packets, %d flows; want 3, %d", x.DuplicatePackets, srcB.Flows, len(rowsB))
	}
	compareRows(t, capRows(t, st), append(withSource(rowsA, srcA.ID), withSource(rowsB, srcB.ID)...))
}

// TestDedupIncompleteSource: the packets remembered by an ingest that
// never completed (killed, aborted) hide nothing from the next one.
func TestDedupIncompleteSource(t *testing.T) {
	a, b, rowsA, rowsB := overlapping(t)
	st := capStore(t)
	// Decode a and write its chunks, then abort its source.
	f, err := os.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := newCaptureDecoder(st, bufio.NewReader(f), pcap.FormatPcap, a, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.BeginSource(index.SourceInfo{SHA256: [32]byte{2}, Path: a, Format: "pcap"})
	if err != nil {
		t.Fatal(err)
	}
	d.setSelf(w.SourceID())
	if err := d.run(w.AddFor); err != nil {
		t.Fatal(err)
	}
	if err := d.dedup.flush(); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if n := len(seenKeys(t, st, auxSeenChunk)); n != 1 {
		t.Fatalf("got %d chunks of the aborted source, want 1", n)
	}
	sum := capIngest(t, st, a, b)
	srcA, xa := capSource(t, st, sum.Files[0])
	srcB, xb := capSource(t, st, sum.Files[1])
	if xa.DuplicatePackets != 0 || xb.DuplicatePackets != 3 {
		t.Errorf("got %d and %d duplicate packets, want 0 and 3", xa.DuplicatePackets, xb.DuplicatePackets)
	}
	compareRows(t, capRows(t, st), append(withSource(rowsA, srcA.ID), withSource(rowsB, srcB.ID)...))
}

// TestDedupManyPackets: 10,000 packets of two domains (full and partial
// buckets) remembered by a complete source are all found by a later run,
// and packets with another payload or sequence number are not.
func TestDedupManyPackets(t *testing.T) {
	st := capStore(t)
	w, err := st.BeginSource(index.SourceInfo{SHA256: [32]byte{3}, Path: "x", Format: "test"})
	if err != nil {
		t.Fatal(err)
	}
	exp := netflow.Exporter{Addr: netip.MustParseAddr("192.0.2.1"), Port: 2055}
	payload := func(domain, seq uint32, salt byte) []byte {
		p := make([]byte, 24)
		binary.BigEndian.PutUint16(p, 9)
		binary.BigEndian.PutUint32(p[12:], seq)
		binary.BigEndian.PutUint32(p[16:], domain)
		p[20] = salt
		return p
	}
	dd := newDedup(st)
	dd.self = w.SourceID()
	for seq := uint32(0); seq < 10_000; seq++ {
		for _, domain := range []uint32{1, 2} {
			dup, id, ok := dd.seen(exp, 9, payload(domain, seq, 0))
			if dup || !ok {
				t.Fatalf("first run: packet %d of domain %d: got duplicate %v, keyed %v", seq, domain, dup, ok)
			}
			dd.record(&id)
		}
	}
	if err := dd.flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(index.SourceResult{}); err != nil {
		t.Fatal(err)
	}
	if n := len(seenKeys(t, st, auxSeenChunk)); n != 6 { // buckets 0, 1 and 2 of each domain
		t.Errorf("got %d chunks, want 6", n)
	}
	dd = newDedup(st)
	for seq := uint32(0); seq < 10_010; seq++ {
		for _, domain := range []uint32{1, 2, 3} {
			dup, _, _ := dd.seen(exp, 9, payload(domain, seq, 0))
			if want := seq < 10_000 && domain != 3; dup != want {
				t.Fatalf("packet %d of domain %d: got duplicate %v, want %v", seq, domain, dup, want)
			}
			if dup, _, _ := dd.seen(exp, 9, payload(domain, seq, 1)); dup {
				t.Fatalf("packet %d of domain %d with another payload: got duplicate", seq, domain)
			}
		}
	}
}

// TestDedupPendingCountsBuckets: what this run's pending entries hold in
// memory is counted with each bucket's own cost, so a capture of many
// observation domains (their ids are the sender's) writes its entries out
// as it goes; each bucket had reserved 768 bytes and been counted 12, and
// 1.2M domains held 2.7 GB.
func TestDedupPendingCountsBuckets(t *testing.T) {
	st := capStore(t)
	dd := newDedup(st)
	exp := netflow.Exporter{Addr: netip.MustParseAddr("192.0.2.1"), Port: 2055}
	p := make([]byte, 24)
	binary.BigEndian.PutUint16(p, 9)
	const domains = 1000
	for d := range uint32(domains) {
		binary.BigEndian.PutUint32(p[16:], d)
		_, id, ok := dd.seen(exp, 9, p)
		if !ok {
			t.Fatal("not keyed")
		}
		dd.record(&id)
	}
	if want := domains * (seenEntryLen + bucketOverhead); dd.nPend != want || len(dd.pending) != domains {
		t.Errorf("pending %d bytes in %d buckets, want %d in %d", dd.nPend, len(dd.pending), want, domains)
	}
	for _, v := range dd.pending {
		if cap(v) > 2*seenEntryLen {
			t.Fatalf("a bucket of one entry reserved %d bytes", cap(v))
		}
	}
	dd.writePending()
	if dd.nPend != 0 || len(dd.pending) != 0 || dd.err != nil {
		t.Errorf("after writing: %d bytes pending in %d buckets, %v", dd.nPend, len(dd.pending), dd.err)
	}
}

// TestNoDump: a commit error is said in its first line, without the hex
// dump Badger appends to a size limit's message, and still unwraps.
func TestNoDump(t *testing.T) {
	base := errors.New("Value with size 139944104 exceeded 134217728 limit. Value:\n00000000  01 02 03  |...|\n00000010  04 05  |..|")
	err := fmt.Errorf("x.pcap: cannot commit: %w", noDump{base})
	if got, want := err.Error(), "x.pcap: cannot commit: Value with size 139944104 exceeded 134217728 limit"; got != want || !errors.Is(err, base) {
		t.Errorf("got %q (is %v), want %q", got, errors.Is(err, base), want)
	}
}
