package ingest

import (
	"encoding/binary"
	"encoding/hex"
	"maps"
	"net/netip"
	"strings"
	"testing"

	"github.com/flowcase/flowcase/internal/nfgen"
)

// quicLookalike is the UDP payload of packet 42 of nDPI's http_ipv6.pcap
// (../shared/captures/public/raw): a Google QUIC packet that begins like an
// IPFIX header (version 10, length 2787) followed by a plausible set id.
const quicLookalike = "000a0ae30884e0e3912774f100b18dd441720af3fd95fd004684fcbfbd"

// TestLookalikeDatagrams: a datagram that begins like an export packet but
// is not sound (netflow.Sound), from a source that sent no export packet,
// to a port no collector uses by convention, is other traffic, not a
// damaged export packet; the same bytes sent to a collector's port are a
// damaged export packet, and a known exporter's damaged packet on an
// unusual port is decoded, its damage counted.
func TestLookalikeDatagrams(t *testing.T) {
	quic, err := hex.DecodeString(quicLookalike)
	if err != nil {
		t.Fatal(err)
	}
	google := netip.MustParseAddrPort("[2a00:1450:4001:803::1017]:443")
	client := netip.MustParseAddrPort("[2a00:d40:1:3:7aac:c0ff:fea7:d4c]:45931")
	collector := netip.MustParseAddrPort("[2001:db8::250]:4739")
	unusual := netip.MustParseAddrPort("192.0.2.250:7000")

	t.Run("traffic only", func(t *testing.T) {
		c := &capBuild{t: t}
		c.dgs = append(c.dgs, nfgen.Datagrams(google, client, capBase, quic)...)
		st := capStore(t)
		res := capIngest(t, st, c.write("quic.pcap")).Files[0]
		if res.Flows != 0 || len(res.Rejected) != 0 {
			t.Errorf("got %d flows, rejected %v; want none", res.Flows, res.Rejected)
		}
		if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "no NetFlow/IPFIX/sFlow exports found: 1 packets of other traffic") {
			t.Errorf("notes %q: want the one saying no exports were found", res.Notes)
		}
	})

	t.Run("among exports", func(t *testing.T) {
		c := &capBuild{t: t}
		e := &nfgen.Exporter{Addr: exp4, Version: 9, Domain: 3, Boot: capBase - capDay}
		define(t, e, nfgen.Template{ID: 256, Fields: nfgen.CompactFields()})
		sendTo := func(at int64, pkts ...[]byte) { c.dgs = append(c.dgs, nfgen.Datagrams(exp4, unusual, at, pkts...)...) }
		sendTo(capBase, c.pkt(e.Begin(capBase).Templates()))
		sendTo(capBase, c.data(e, capBase, 256, capFlows(40, capBase, false))...)
		// A data packet of the same exporter cut inside its FlowSet: its
		// set length overruns the packet. Its records are lost, counted.
		cut, err := e.AppendData(nil, capBase+capMin, 256, capFlows(10, capBase, false))
		if err != nil {
			t.Fatal(err)
		}
		damaged := cut[0][:len(cut[0])-30]
		sendTo(capBase+capMin, damaged)
		// The QUIC packet to the client, and the same bytes sent to an IPFIX
		// collector's port from another source.
		c.dgs = append(c.dgs, nfgen.Datagrams(google, client, capBase+2*capMin, quic)...)
		c.dgs = append(c.dgs, nfgen.Datagrams(netip.MustParseAddrPort("[2001:db8::7]:40000"), collector, capBase+2*capMin, quic)...)
		sendTo(capBase+3*capMin, c.data(e, capBase+3*capMin, 256, capFlows(5, capBase+capMin, false))...)

		st := capStore(t)
		res := capIngest(t, st, c.write("mixed.pcap")).Files[0]
		if res.Flows != 45 {
			t.Errorf("got %d flows, want 45", res.Flows)
		}
		compareRows(t, capRows(t, st), withSource(c.want, 1))
		if binary.BigEndian.Uint16(damaged[20:]) != 256 {
			t.Fatalf("the damaged packet's first FlowSet is not the data set")
		}
		want := map[string]int64{"netflow: bad set length": 1, "netflow: truncated": 1}
		if !maps.Equal(res.Rejected, want) {
			t.Errorf("rejected %v, want %v", res.Rejected, want)
		}
		_, x := capSource(t, st, res)
		// The template packet, two data packets of 40 flows, the damaged one,
		// the lookalike sent to 4739 and the last data packet.
		if x.ExportPackets != 6 || x.Lookalikes != 1 || x.OtherUDP != 1 {
			t.Errorf("export packets %d, lookalikes %d, other UDP %d; want 6, 1, 1", x.ExportPackets, x.Lookalikes, x.OtherUDP)
		}
		found := false
		for _, n := range res.Notes {
			found = found || strings.HasPrefix(n, "1 UDP datagrams began like export packets but were not sound")
		}
		if !found {
			t.Errorf("notes %q: want one on the lookalike datagram", res.Notes)
		}
	})
}
