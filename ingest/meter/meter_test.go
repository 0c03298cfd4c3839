package meter

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowcase/flowcase/ingest/pcap"
	"github.com/flowcase/flowcase/internal/flow"
)

var (
	client = netip.MustParseAddr("10.0.0.1")
	server = netip.MustParseAddr("192.0.2.80")
)

// pkt is a TCP packet of 100 bytes at second s.
func pkt(s float64, src, dst netip.Addr, sport, dport uint16, flags uint8) pcap.Headers {
	return pcap.Headers{Time: int64(s * 1e9), Src: src, Dst: dst, Proto: flow.ProtoTCP, SrcPort: sport, DstPort: dport, TCPFlags: flags, Length: 100}
}

func run(cfg Config, pkts ...pcap.Headers) ([]flow.Record, Stats) {
	var out []flow.Record
	m := New(cfg, func(r *flow.Record) { out = append(out, *r) })
	for i := range pkts {
		m.Add(&pkts[i])
	}
	m.Flush()
	return out, m.Stats()
}

func summary(rs []flow.Record) string {
	s := ""
	for _, r := range rs {
		s += fmt.Sprintf("[%v:%d>%v:%d %gs-%gs %dp %dB %#x] ", r.SrcAddr, r.SrcPort, r.DstAddr, r.DstPort,
			float64(r.Start)/1e9, float64(r.End)/1e9, r.Packets, r.Bytes, r.TCPFlags)
	}
	return s
}

func TestMeter(t *testing.T) {
	const S, A, F, R, P = flow.SYN, flow.ACK, flow.FIN, flow.RST, flow.PSH
	cases := []struct {
		name string
		cfg  Config
		pkts []pcap.Headers
		want string
		st   Stats
	}{
		{"a connection, one record per direction", Config{}, []pcap.Headers{
			pkt(0, client, server, 40000, 80, S), pkt(0.1, server, client, 80, 40000, S|A),
			pkt(0.2, client, server, 40000, 80, A|P), pkt(0.3, server, client, 80, 40000, A|P|F), pkt(0.4, client, server, 40000, 80, A|F)},
			"[192.0.2.80:80>10.0.0.1:40000 0.1s-0.3s 2p 200B 0x1b] [10.0.0.1:40000>192.0.2.80:80 0s-0.4s 3p 300B 0x1b] ", // at the end, by last packet
			Stats{Packets: 5, Bytes: 500, Flows: 2}},
		{"the same ports again after FIN: a new record", Config{}, []pcap.Headers{
			pkt(0, client, server, 40000, 80, S), pkt(1, client, server, 40000, 80, A|F), pkt(2, client, server, 40000, 80, S)},
			"[10.0.0.1:40000>192.0.2.80:80 0s-1s 2p 200B 0x13] [10.0.0.1:40000>192.0.2.80:80 2s-2s 1p 100B 0x2] ",
			Stats{Packets: 3, Bytes: 300, Flows: 2, Restarted: 1}},
		{"a retried SYN is the same attempt", Config{}, []pcap.Headers{
			pkt(0, client, server, 40000, 80, S), pkt(1, client, server, 40000, 80, S)},
			"[10.0.0.1:40000>192.0.2.80:80 0s-1s 2p 200B 0x2] ",
			Stats{Packets: 2, Bytes: 200, Flows: 1}},
		{"idle timeout", Config{Idle: 5 * time.Second}, []pcap.Headers{
			pkt(0, client, server, 40000, 80, A), pkt(5, client, server, 40000, 80, A), pkt(10.5, client, server, 40000, 80, A)},
			"[10.0.0.1:40000>192.0.2.80:80 0s-5s 2p 200B 0x10] [10.0.0.1:40000>192.0.2.80:80 10.5s-10.5s 1p 100B 0x10] ",
			Stats{Packets: 3, Bytes: 300, Flows: 2, Idle: 1}},
		{"active timeout", Config{Active: 10 * time.Second}, []pcap.Headers{
			pkt(0, client, server, 40000, 80, A), pkt(6, client, server, 40000, 80, A), pkt(12, client, server, 40000, 80, A), pkt(18, client, server, 40000, 80, A)},
			"[10.0.0.1:40000>192.0.2.80:80 0s-6s 2p 200B 0x10] [10.0.0.1:40000>192.0.2.80:80 12s-18s 2p 200B 0x10] ",
			Stats{Packets: 4, Bytes: 400, Flows: 2, Active: 1}},
		{"a full table ends the flow idle longest", Config{MaxFlows: 2}, []pcap.Headers{
			pkt(0, client, server, 1, 80, S), pkt(1, client, server, 2, 80, S), pkt(2, client, server, 1, 80, A), pkt(3, client, server, 3, 80, S)},
			"[10.0.0.1:2>192.0.2.80:80 1s-1s 1p 100B 0x2] [10.0.0.1:1>192.0.2.80:80 0s-2s 2p 200B 0x12] [10.0.0.1:3>192.0.2.80:80 3s-3s 1p 100B 0x2] ",
			Stats{Packets: 4, Bytes: 400, Flows: 3, Evicted: 1}},
		{"a packet out of order keeps its time", Config{}, []pcap.Headers{
			pkt(1, client, server, 40000, 80, A), pkt(0.5, client, server, 40000, 80, S)},
			"[10.0.0.1:40000>192.0.2.80:80 0.5s-1s 2p 200B 0x12] ",
			Stats{Packets: 2, Bytes: 200, Flows: 1, Reordered: 1}},
		// A late packet of flow A (95 s) must not keep A behind B in the
		// idle order: A's last packet was at 109 s, 16 s before the next
		// one, over the 15 s idle timeout (captures joined with cat).
		{"a late packet does not hold its flow past the idle timeout", Config{}, []pcap.Headers{
			pkt(100, client, server, 1, 80, A), pkt(109, client, server, 1, 80, A), pkt(110, client, server, 2, 80, A),
			pkt(95, client, server, 1, 80, A), pkt(125, client, server, 1, 80, A)},
			"[10.0.0.1:1>192.0.2.80:80 95s-109s 3p 300B 0x10] [10.0.0.1:2>192.0.2.80:80 110s-110s 1p 100B 0x10] [10.0.0.1:1>192.0.2.80:80 125s-125s 1p 100B 0x10] ",
			Stats{Packets: 5, Bytes: 500, Flows: 3, Idle: 1, Reordered: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, st := run(c.cfg, c.pkts...)
			if summary(got) != c.want || st != c.st {
				t.Errorf("got  %s%+v\nwant %s%+v", summary(got), st, c.want, c.st)
			}
		})
	}
}

// ICMP flows are keyed by addresses alone (softflowd's key) and keep their
// first packet's type and code; later fragments and cut packets go to a
// flow with ports 0.
func TestMeterICMPAndFragments(t *testing.T) {
	unreach := pcap.Headers{Time: 1e9, Src: server, Dst: client, Proto: flow.ProtoICMP, ICMPType: 3, ICMPCode: 3, Length: 56}
	echo := unreach
	echo.Time, echo.ICMPType, echo.ICMPCode = 2e9, 0, 0
	first := pcap.Headers{Time: 3e9, Src: client, Dst: server, Proto: flow.ProtoUDP, SrcPort: 5000, DstPort: 53, Length: 1500}
	later := pcap.Headers{Time: 3e9, Src: client, Dst: server, Proto: flow.ProtoUDP, Length: 600, Fragment: true}
	got, st := run(Config{}, unreach, echo, first, later)
	if len(got) != 3 || got[0].ICMPType != 3 || got[0].ICMPCode != 3 || got[0].Packets != 2 || got[0].Bytes != 112 ||
		got[1].DstPort != 53 || got[2].DstPort != 0 || got[2].Bytes != 600 || st.Fragments != 1 {
		t.Errorf("got %s%+v", summary(got), st)
	}
}

func BenchmarkMeter(b *testing.B) {
	// 64k conversations of 8 packets each way, interleaved in time.
	const conns = 1 << 16
	pkts := make([]pcap.Headers, 0, 16*conns)
	for i := range 16 * conns {
		c := i % conns
		src := netip.AddrFrom4([4]byte{10, 0, byte(c >> 8), byte(c)})
		h := pkt(float64(i)/1e5, src, server, uint16(40000+c%1000), 443, flow.ACK)
		if i/conns%2 == 1 {
			h.Src, h.Dst, h.SrcPort, h.DstPort = h.Dst, h.Src, h.DstPort, h.SrcPort
		}
		pkts = append(pkts, h)
	}
	b.ResetTimer()
	n := 0
	for range b.N {
		m := New(Config{}, func(*flow.Record) { n++ })
		for i := range pkts {
			m.Add(&pkts[i])
		}
		m.Flush()
	}
	b.ReportMetric(float64(len(pkts)*b.N)/b.Elapsed().Seconds(), "packets/s")
}

// FuzzMeter meters any capture: every packet NextHeaders returns is in
// exactly one record (packets and bytes add up), no record ends before it
// starts, and the table never holds more than MaxFlows.
func FuzzMeter(f *testing.F) {
	for _, name := range []string{"traffic.pcap.gz", "softflowd_v9_small.pcap"} {
		b, err := os.ReadFile(filepath.Join("../../testdata/softflowd", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(2))
	}
	f.Fuzz(func(t *testing.T, b []byte, max uint8) {
		rd, err := pcap.NewReader(bytes.NewReader(b), pcap.FormatAuto)
		if err != nil {
			return
		}
		var packets, bytes uint64
		m := New(Config{Idle: time.Second, Active: 5 * time.Second, MaxFlows: int(max%8) + 1}, func(r *flow.Record) {
			if r.End < r.Start || r.Packets == 0 {
				t.Fatalf("record %+v", r)
			}
			packets, bytes = packets+r.Packets, bytes+r.Bytes
		})
		for h, ok := rd.NextHeaders(); ok; h, ok = rd.NextHeaders() {
			m.Add(h)
			if m.Open() > int(max%8)+1 {
				t.Fatalf("%d flows open, at most %d", m.Open(), max%8+1)
			}
		}
		m.Flush()
		st := m.Stats()
		if packets != st.Packets || bytes != st.Bytes || st.Packets != rd.Stats().Metered || m.Open() != 0 {
			t.Fatalf("records hold %d packets and %d bytes; metered %+v, reader %+v", packets, bytes, st, rd.Stats())
		}
	})
}
