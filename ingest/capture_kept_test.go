package ingest

import (
	"encoding/binary"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"

	"github.com/flowcase/flowcase/internal/nfgen"
)

// Records kept after a repair are stored and noted, not counted as
// rejected: a v9 record that ends before it starts (kept with its end at
// its start) and one without any time (placed at its packet's export time).
func TestCaptureKeptAfterRepair(t *testing.T) {
	be := binary.BigEndian
	t0 := uint64(capBase / 1e6)
	exportSecs := uint32(capBase/1e9) + 60
	template := func(b []byte, id uint16, fields ...uint16) []byte {
		b = be.AppendUint16(b, id)
		b = be.AppendUint16(b, uint16(len(fields)/2))
		for _, f := range fields {
			b = be.AppendUint16(b, f)
		}
		return b
	}
	set := func(b []byte, id uint16, body []byte) []byte {
		b = be.AppendUint16(b, id)
		b = be.AppendUint16(b, uint16(4+len(body)))
		return append(b, body...)
	}
	// Template 256: addresses, ports, protocol, bytes, flowStart/EndMilliseconds;
	// template 257: the same without times.
	tpls := template(nil, 256, 8, 4, 12, 4, 7, 2, 11, 2, 4, 1, 1, 4, 152, 8, 153, 8)
	tpls = template(tpls, 257, 8, 4, 12, 4, 7, 2, 11, 2, 4, 1, 1, 4)
	key := func(b []byte, src string, bytes uint32) []byte {
		b = append(b, netip.MustParseAddr(src).AsSlice()...)
		b = append(b, 192, 168, 1, 20)
		b = be.AppendUint16(b, 50000)
		b = be.AppendUint16(b, 443)
		b = append(b, 6)
		return be.AppendUint32(b, bytes)
	}
	inverted := be.AppendUint64(be.AppendUint64(key(nil, "10.0.0.1", 100), t0+5_000), t0)
	payload := be.AppendUint16(nil, 9)
	payload = be.AppendUint16(payload, 4) // two templates, two records
	payload = be.AppendUint32(payload, 3_600_000)
	payload = be.AppendUint32(payload, exportSecs)
	payload = be.AppendUint32(payload, 1)
	payload = be.AppendUint32(payload, 0)
	payload = set(payload, 0, tpls)
	payload = set(payload, 256, inverted)
	payload = set(payload, 257, key(nil, "10.0.0.2", 200))

	path := filepath.Join(t.TempDir(), "repaired.pcap")
	dg := nfgen.Datagram{Src: netip.MustParseAddrPort("192.0.2.1:4444"), Dst: netip.MustParseAddrPort("192.0.2.9:2055"),
		Time: capBase + 60e9, Payload: payload}
	if err := nfgen.WriteFile(path, []nfgen.Datagram{dg}); err != nil {
		t.Fatal(err)
	}
	st := capStore(t)
	res := capIngest(t, st, path).Files[0]
	want := []string{
		"1 flow records carry no time of their own (or only times since the exporter's start, which it did not send): each is placed at its export packet's time",
		"1 flow records end before they start: each is kept with its end set to its start",
	}
	if res.Flows != 2 || len(res.Rejected) != 0 || !slices.Equal(res.Notes, want) {
		t.Fatalf("got %d flows, rejected %v, notes %q; want 2, none and %q", res.Flows, res.Rejected, res.Notes, want)
	}
	for _, r := range capRows(t, st) {
		start, end := r.Start, r.End
		switch r.Bytes {
		case 100:
			if want := int64(t0+5_000) * 1e6; start != want || end != want {
				t.Errorf("inverted record at [%d, %d]; want both %d", start, end, want)
			}
		case 200:
			if want := int64(exportSecs) * 1e9; start != want || end != want {
				t.Errorf("timeless record at [%d, %d]; want both at the export time %d", start, end, want)
			}
		default:
			t.Errorf("unexpected row %+v", r)
		}
	}
}
