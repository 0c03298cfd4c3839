package ingest

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowcase/flowcase/internal/nfgen"
)

// A capture without export packets says so, and what to do when it holds
// the traffic itself.
func TestCaptureWithoutExports(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dns.pcap")
	var dgs []nfgen.Datagram
	for i := range 3 {
		dgs = append(dgs, nfgen.Datagram{Src: netip.MustParseAddrPort("10.0.0.5:53000"), Dst: netip.MustParseAddrPort("10.0.0.1:53"),
			Time: int64(i+1) * 1e9, Payload: []byte("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01")})
	}
	if err := nfgen.WriteFile(path, dgs); err != nil {
		t.Fatal(err)
	}
	res := capIngest(t, capStore(t), path).Files[0]
	want := "no NetFlow/IPFIX/sFlow exports found: 3 packets of other traffic (a capture of the traffic itself, not of flow exports?"
	if res.Flows != 0 || len(res.Notes) != 1 || !strings.HasPrefix(res.Notes[0], want) {
		t.Errorf("got %d flows, notes %q; want 0 and %q...", res.Flows, res.Notes, want)
	}
}

// Data records without addresses (statistics or event records, with no
// packet section to read them from) are not flows: rejected and counted.
func TestCaptureRecordsWithoutAddresses(t *testing.T) {
	c := &capBuild{t: t}
	e := &nfgen.Exporter{Addr: exp4, Version: 10, Domain: 5}
	define(t, e, nfgen.Template{ID: 410, Fields: []nfgen.Field{
		{ID: nfgen.OctetDeltaCount, Length: 8}, {ID: nfgen.PacketDeltaCount, Length: 8},
		{ID: nfgen.FlowStartMilliseconds, Length: 8}, {ID: nfgen.FlowEndMilliseconds, Length: 8},
	}})
	now := capBase + capMin
	c.send(e, now, c.pkt(e.Begin(now).Templates().Data(410, capFlows(7, capBase, false)...)))
	st := capStore(t)
	res := capIngest(t, st, c.write("stats.pcap")).Files[0]
	if res.Flows != 0 || res.Rejected[reasonNoAddresses] != 7 || len(capRows(t, st)) != 0 {
		t.Errorf("got %d flows, rejected %v; want 0 and 7 %q", res.Flows, res.Rejected, reasonNoAddresses)
	}
}

// sFlow datagrams are export packets: the capture says how many there
// were, and the same datagram twice is a duplicate.
func TestCaptureSFlowNoted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sflow.pcap")
	// sFlow v5: version 5, agent address type 1 (IPv4) 192.0.2.7, sub-agent 0, sequence 1,
	// uptime 1000 ms, no samples.
	payload := []byte{0, 0, 0, 5, 0, 0, 0, 1, 192, 0, 2, 7, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 3, 232, 0, 0, 0, 0}
	dg := nfgen.Datagram{Src: netip.MustParseAddrPort("192.0.2.7:50000"), Dst: netip.MustParseAddrPort("192.0.2.9:6343"), Time: 1e9, Payload: payload}
	if err := nfgen.WriteFile(path, []nfgen.Datagram{dg, dg}); err != nil {
		t.Fatal(err)
	}
	res := capIngest(t, capStore(t), path).Files[0]
	if res.Flows != 0 || len(res.Notes) != 2 || !strings.HasPrefix(res.Notes[0], "1 sFlow v5 datagrams: ") ||
		res.Notes[1] != "1 export packets already in the store skipped (duplicates)" {
		t.Errorf("got %d flows, notes %q; want 0, one sFlow datagram and one duplicate", res.Flows, res.Notes)
	}
}
