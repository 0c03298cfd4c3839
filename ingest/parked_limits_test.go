package ingest

import (
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/flowcase/flowcase/ingest/netflow"
	"github.com/flowcase/flowcase/ingest/pcap"
	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/internal/nfgen"
)

// parkGen writes IPFIX messages of one exporter (domain 1) whose data sets
// come before their templates. Every template has the same four fields
// (sourceIPv4Address, destinationIPv4Address, flowStartSeconds,
// flowEndSeconds); every data set holds one 16-byte record.
type parkGen struct {
	seq  uint32
	msgs [][]byte
}

var parkSrc, parkDst = netip.MustParseAddrPort("192.0.2.1:4739"), netip.MustParseAddrPort("192.0.2.9:4739")

func (g *parkGen) message(sets ...[]byte) {
	be := binary.BigEndian
	body := slices.Concat(sets...)
	b := be.AppendUint16(nil, 10)
	b = be.AppendUint16(b, uint16(16+len(body)))
	b = be.AppendUint32(b, uint32(capBase/1e9))
	b = be.AppendUint32(b, g.seq)
	b = be.AppendUint32(b, 1)
	g.seq++
	g.msgs = append(g.msgs, append(b, body...))
}

func parkSet(id uint16, body []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = binary.BigEndian.AppendUint16(b, uint16(4+len(body)))
	return append(b, body...)
}

// parkData is a set of one record for template id; n tells the records
// apart (its source address).
func parkData(id uint16, n int) []byte {
	secs := uint32(capBase / 1e9)
	rec := []byte{10, byte(n >> 16), byte(n >> 8), byte(n), 10, 255, 0, 1}
	rec = binary.BigEndian.AppendUint32(rec, secs)
	rec = binary.BigEndian.AppendUint32(rec, secs+1)
	return parkSet(id, rec)
}

// parkTemplates is a template set defining ids; swap reverses the
// addresses' order (a changed definition of the same id).
func parkTemplates(swap bool, ids ...uint16) []byte {
	var body []byte
	for _, id := range ids {
		body = binary.BigEndian.AppendUint16(body, id)
		body = binary.BigEndian.AppendUint16(body, 4)
		a, b := uint16(8), uint16(12)
		if swap {
			a, b = b, a
		}
		for _, f := range []uint16{a, 4, b, 4, 150, 4, 151, 4} {
			body = binary.BigEndian.AppendUint16(body, f)
		}
	}
	return parkSet(2, body)
}

// data adds n data sets, 170 to a message, for ids taken in turn.
func (g *parkGen) data(n int, ids ...uint16) {
	var sets [][]byte
	for i := range n {
		sets = append(sets, parkData(ids[i%len(ids)], i))
		if len(sets) == 170 || i == n-1 {
			g.message(sets...)
			sets = sets[:0]
		}
	}
}

func (g *parkGen) write(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := nfgen.WriteFile(path, nfgen.Datagrams(parkSrc, parkDst, capBase, g.msgs...)); err != nil {
		t.Fatal(err)
	}
	return path
}

func parkIDs(from, n int) []uint16 {
	ids := make([]uint16, n)
	for i := range ids {
		ids[i] = uint16(from + i)
	}
	return ids
}

func waitingSets(ws []Waiting) (n int) {
	for _, w := range ws {
		n += w.Sets
	}
	return n
}

var reasonUnknownTemplate = netflow.ErrUnknownTemplate.Error()

// Data sets waiting for templates that never come are bounded in number:
// those beyond maxParkedSets are rejected as of an unknown template, the
// store keeps no more, and the templates, when they come, decode the sets
// that waited.
func TestParkedSetsBounded(t *testing.T) {
	const sets = 40000
	var g parkGen
	g.data(sets, parkIDs(400, 1000)...) // 40 sets for each of templates 400..1399
	flood := g.write(t, "flood.pcap")
	st := capStore(t)
	sum := capIngest(t, st, flood)
	res := sum.Files[0]
	if res.Parked != maxParkedSets || res.Rejected[reasonUnknownTemplate] != sets-maxParkedSets || res.Flows != 0 {
		t.Fatalf("flood: got %d parked, rejected %v, %d flows; want %d parked, %d rejected as %q, none",
			res.Parked, res.Rejected, res.Flows, maxParkedSets, sets-maxParkedSets, reasonUnknownTemplate)
	}
	if !slices.Contains(res.Notes, (&captureDecoder{refused: sets - maxParkedSets}).refusedNote()) {
		t.Errorf("flood: notes %q lack the rejected sets'", res.Notes)
	}
	if n := waitingSets(sum.Waiting); n != maxParkedSets {
		t.Errorf("flood: %d sets wait in the store, want %d", n, maxParkedSets)
	}

	// The store keeps no more: a later file's own sets, whose templates
	// never come, are rejected when it is done (in the file, they had
	// room of their own to wait: TestParkedOwnRoom).
	var g2 parkGen
	g2.data(100, parkIDs(2000, 10)...)
	sum2 := capIngest(t, st, g2.write(t, "more.pcap"))
	if r := sum2.Files[0]; r.Parked != 0 || r.Rejected[reasonUnknownTemplate] != 100 {
		t.Errorf("later file: got %d parked, rejected %v; want 0 and 100 as %q", r.Parked, r.Rejected, reasonUnknownTemplate)
	}
	if n := waitingSets(sum2.Waiting); n != maxParkedSets {
		t.Errorf("later file: %d sets wait in the store, want %d", n, maxParkedSets)
	}

	// Templates 400..409 decode the sets that waited for them: the first
	// 32768 sets of the flood hold 33 sets for templates 400..767, 32
	// for the others.
	var g3 parkGen
	g3.message(parkTemplates(false, parkIDs(400, 10)...))
	sum3 := capIngest(t, st, g3.write(t, "templates.pcap"))
	if r := sum3.Files[0]; r.Flows != 0 || len(r.Rejected) != 0 {
		t.Errorf("templates: got %d own flows, rejected %v; want none", r.Flows, r.Rejected)
	}
	if got := len(capRows(t, st)); got != 330 {
		t.Errorf("templates: %d flows in the store, want 330", got)
	}
	if n := waitingSets(sum3.Waiting); n != maxParkedSets-330 {
		t.Errorf("templates: %d sets wait in the store, want %d", n, maxParkedSets-330)
	}
}

// One template waited for cannot take every place: at most
// maxParkedPerKey of its sets wait, the rest are rejected, and the sets of
// other templates still park.
func TestParkedSetsBoundedPerTemplate(t *testing.T) {
	const sets = maxParkedPerKey + 1000
	var g parkGen
	g.data(sets, 300)
	g.data(50, 301)
	g.message(parkTemplates(false, 300, 301))
	st := capStore(t)
	res := capIngest(t, st, g.write(t, "one-template.pcap")).Files[0]
	want := maxParkedPerKey + 50
	if res.Flows != int64(want) || res.Rejected[reasonUnknownTemplate] != 1000 || res.Parked != 0 {
		t.Errorf("got %d flows, rejected %v, %d parked; want %d, 1000 as %q, none", res.Flows, res.Rejected, res.Parked, want, reasonUnknownTemplate)
	}
	if got := len(capRows(t, st)); got != want {
		t.Errorf("%d flows in the store, want %d", got, want)
	}
}

// The bytes that wait are bounded too, with each set's overhead counted.
func TestParkedSetsBoundedInBytes(t *testing.T) {
	d := &captureDecoder{rejects: map[string]int{}}
	set := make([]byte, 4000)
	ps := netflow.ParkedSet{Key: netflow.TemplateKey{ID: 300, Version: 10}, Length: len(set)}
	for i := range 10000 {
		ps.Key.ID = uint16(300 + i%100)
		d.parkOrRefuse(ps, set)
	}
	fit := maxParkedBytes / (len(set) + parkedOverhead)
	if d.parkedN != fit || d.refused != 10000-fit || d.rejects[reasonUnknownTemplate] != 10000-fit || d.parkedB > maxParkedBytes {
		t.Errorf("got %d parked (%d bytes), %d refused, rejects %v; want %d parked within %d bytes", d.parkedN, d.parkedB, d.refused, d.rejects, fit, maxParkedBytes)
	}
}

// A packet that learns or changes a template retries only the sets that
// wait for it: an exporter changing one template over and over while
// thousands of sets wait for others costs no retries of them.
func TestParkedRetryByTemplate(t *testing.T) {
	var g parkGen
	g.data(2000, parkIDs(400, 1000)...) // 2 sets for each of templates 400..1399
	for i := range 500 {
		g.message(parkTemplates(i%2 == 1, 300)) // template 300 changes in every message
	}
	g.message(parkTemplates(false, parkIDs(400, 10)...))
	g.message(parkTemplates(true, 300), parkData(300, 1)) // learned, and used right away
	path := g.write(t, "retry.pcap")

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := newCaptureDecoder(capStore(t), f, pcap.FormatAuto, "retry.pcap", Options{})
	if err != nil {
		t.Fatal(err)
	}
	d.setSelf(1)
	var flows []netip.Addr
	if err := d.run(func(r *flow.Record, _ uint32) error {
		flows = append(flows, r.SrcAddr)
		return nil
	}); err != nil || d.Err() != nil {
		t.Fatal(err, d.Err())
	}
	if d.retried != 20 || len(flows) != 21 || d.parkedN != 1980 || len(d.parked) != 990 {
		t.Errorf("got %d sets retried, %d flows, %d sets of %d templates waiting; want 20, 21, 1980 of 990",
			d.retried, len(flows), d.parkedN, len(d.parked))
	}
	// Templates 400..409 decoded their sets in the order they came.
	want := []netip.Addr{}
	for id := range 10 {
		want = append(want, netip.AddrFrom4([4]byte{10, 0, 0, byte(id)}), netip.AddrFrom4([4]byte{10, 0, 3, byte(232 + id)}))
	}
	if !slices.Equal(flows[:20], want) {
		t.Errorf("decoded %v, want %v", flows[:20], want)
	}
}

// A file's own data sets have room of their own to wait for a template
// the file brings later, whatever earlier files left waiting: a flood of
// 32,768 sets in the store, and 8,192 for the very template (they had
// taken all the room, and a capture started between template refreshes
// lost its first sets, or every set of that template).
func TestParkedOwnRoom(t *testing.T) {
	st := capStore(t)
	var flood, same, late parkGen
	flood.data(maxParkedSets-maxParkedPerKey, parkIDs(400, 1024)...)
	same.data(maxParkedPerKey, 300)
	capIngest(t, st, flood.write(t, "flood.pcap"))
	capIngest(t, st, same.write(t, "same.pcap"))
	late.data(100, 300)
	late.message(parkTemplates(false, 300))
	sum := capIngest(t, st, late.write(t, "late.pcap"))
	if r := sum.Files[0]; len(r.Rejected) != 0 {
		t.Errorf("late file: rejected %v, want none", r.Rejected)
	}
	// Each set holds one record of template 300 (parkGen).
	if got, want := len(capRows(t, st)), maxParkedPerKey+100; got != want {
		t.Errorf("%d flows in the store, want %d (the earlier file's and the late one's)", got, want)
	}
	if n := waitingSets(sum.Waiting); n != maxParkedSets-maxParkedPerKey {
		t.Errorf("%d sets wait, want the flood's %d", n, maxParkedSets-maxParkedPerKey)
	}
}

// The store keeps no more waiting sets than a later ingest takes up: for
// one template and in bytes as in number, earlier files' first, so a file
// bringing their templates decodes every set that waits. Two files had
// left 16,384 sets for template 300 (or 2 × 32 MiB), and the templates
// decoded half: the rest waited, their template known, for some later
// ingest.
func TestParkedStoreBounds(t *testing.T) {
	t.Run("one template", func(t *testing.T) {
		st := capStore(t)
		var a, b, c parkGen
		a.data(maxParkedPerKey, 300)
		b.seq = 100000 // not the same export packets as a's
		b.data(maxParkedPerKey, 300)
		capIngest(t, st, a.write(t, "a.pcap"))
		sum := capIngest(t, st, b.write(t, "b.pcap"))
		if r := sum.Files[0]; r.Parked != 0 || r.Rejected[reasonUnknownTemplate] != maxParkedPerKey || len(r.Rejected) != 1 {
			t.Errorf("b: got %d parked, rejected %v; want 0 and %d as %q", r.Parked, r.Rejected, maxParkedPerKey, reasonUnknownTemplate)
		}
		if n := waitingSets(sum.Waiting); n != maxParkedPerKey {
			t.Errorf("b: %d sets wait in the store, want %d", n, maxParkedPerKey)
		}
		c.seq = 200000
		c.message(parkTemplates(false, 300))
		sum = capIngest(t, st, c.write(t, "c.pcap"))
		if n := waitingSets(sum.Waiting); n != 0 {
			t.Errorf("c: %d sets wait in the store, want none", n)
		}
		rows := capRows(t, st)
		if len(rows) != maxParkedPerKey || rows[0].SourceID != 1 || rows[len(rows)-1].SourceID != 1 {
			t.Errorf("%d flows in the store, want a's %d", len(rows), maxParkedPerKey)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		// Template 300 or 301: parkTemplates' four fields and 16,000
		// bytes of paddingOctets, so one record to a 16,020-byte set.
		tpl := func(id uint16) []byte {
			b := binary.BigEndian.AppendUint16(nil, id)
			b = binary.BigEndian.AppendUint16(b, 5)
			for _, f := range []uint16{8, 4, 12, 4, 150, 4, 151, 4, 210, 16000} {
				b = binary.BigEndian.AppendUint16(b, f)
			}
			return parkSet(2, b)
		}
		data := func(id uint16, n int) []byte {
			return parkSet(id, append(parkData(id, n)[4:], make([]byte, 16000)...))
		}
		fit := maxParkedBytes / (16020 + parkedOverhead) // 2061
		st := capStore(t)
		var a, b, c parkGen
		for i := range fit {
			a.message(data(300, i))
		}
		b.seq = 100000
		for i := range fit {
			b.message(data(301, i))
		}
		sum := capIngest(t, st, a.write(t, "a.pcap"), b.write(t, "b.pcap"))
		if r := sum.Files[1]; r.Parked != 0 || r.Rejected[reasonUnknownTemplate] != int64(fit) || len(r.Rejected) != 1 {
			t.Errorf("b: got %d parked, rejected %v; want 0 and %d as %q", r.Parked, r.Rejected, fit, reasonUnknownTemplate)
		}
		if n := waitingSets(sum.Waiting); n != fit {
			t.Errorf("a and b: %d sets wait in the store, want a's %d", n, fit)
		}
		c.seq = 200000
		c.message(tpl(300), tpl(301))
		sum = capIngest(t, st, c.write(t, "c.pcap"))
		if n := waitingSets(sum.Waiting); n != 0 {
			t.Errorf("c: %d sets wait in the store, want none", n)
		}
		if got := len(capRows(t, st)); got != fit {
			t.Errorf("%d flows in the store, want a's %d", got, fit)
		}
	})
}
