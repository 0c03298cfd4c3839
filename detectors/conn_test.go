package detectors

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/internal/gen"
)

// collect is a sink that copies every connection it gets, with its
// addresses.
type collect struct {
	tr    *tracker
	conns []tconn
}

type tconn struct {
	conn
	srcAddr, dstAddr netip.Addr
}

func (c *collect) addConn(x *conn) {
	c.conns = append(c.conns, tconn{*x, c.tr.addrs.addr(x.src), c.tr.addrs.addr(x.dst)})
}

func track(cfg ConnConfig, recs []flow.Record) []tconn {
	tr := newTracker(cfg)
	c := collect{tr: tr}
	tr.sinks = []connSink{&c}
	for i := range recs {
		tr.add(&recs[i])
	}
	tr.flush()
	return c.conns
}

var (
	cli = ip4(10, 1, 0, 5)
	srv = ip4(192, 0, 2, 7)
)

func TestSrcOpens(t *testing.T) {
	tests := []struct {
		name string
		r    flow.Record
		want bool
	}{
		{"syn", flow.Record{SrcPort: 443, DstPort: 50000, Proto: 6, TCPFlags: flow.SYN, Packets: 1}, true},
		{"syn+ack alone", flow.Record{SrcPort: 40000, DstPort: 51000, Proto: 6, TCPFlags: flow.SYN | flow.ACK, Packets: 1}, false},
		{"rst+ack alone", flow.Record{SrcPort: 40000, DstPort: 51000, Proto: 6, TCPFlags: flow.RST | flow.ACK, Packets: 1}, false},
		// A connect scan's probe of an open port (SYN, ACK, RST; nmap -sT)
		// and a server's SYN+ACK later reset: the ports decide.
		{"connect and reset", flow.Record{SrcPort: 45562, DstPort: 22, Proto: 6, TCPFlags: flow.SYN | flow.ACK | flow.RST, Packets: 3}, true},
		{"syn+ack then rst", flow.Record{SrcPort: 22, DstPort: 45562, Proto: 6, TCPFlags: flow.SYN | flow.ACK | flow.RST, Packets: 2}, false},
		{"service to ephemeral", flow.Record{SrcPort: 443, DstPort: 50000, Proto: 6, TCPFlags: flow.ACK | flow.PSH, Packets: 9}, false},
		{"ephemeral to service", flow.Record{SrcPort: 50000, DstPort: 443, Proto: 6, TCPFlags: flow.ACK | flow.PSH, Packets: 9}, true},
		{"dns answer", flow.Record{SrcPort: 53, DstPort: 61000, Proto: 17}, false},
		{"ntp both 123", flow.Record{SrcPort: 123, DstPort: 123, Proto: 17}, true},
		{"low unknown to ephemeral", flow.Record{SrcPort: 25000, DstPort: 55000, Proto: 17}, false},
		{"two unknown high ports", flow.Record{SrcPort: 55000, DstPort: 25000, Proto: 17}, true},
		{"echo request", flow.Record{Proto: 1, ICMPType: 8}, true},
		{"echo reply", flow.Record{Proto: 1, ICMPType: 0}, false},
		{"unreachable in dst port", flow.Record{Proto: 1, DstPort: 3<<8 | 3}, false},
		{"icmpv6 echo reply", flow.Record{Proto: 58, ICMPType: 129}, false},
	}
	for _, tt := range tests {
		if got := srcOpens(&tt.r); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestTrackerMergesAndOrients(t *testing.T) {
	recs := []flow.Record{
		// A request and its answer: one connection, opened by cli.
		{Start: 0, End: sec, SrcAddr: cli, DstAddr: srv, SrcPort: 50000, DstPort: 443, Proto: 6, TCPFlags: flow.SYN | flow.ACK | flow.PSH | flow.FIN, Bytes: 100, Packets: 5},
		{Start: 1000, End: sec, SrcAddr: srv, DstAddr: cli, SrcPort: 443, DstPort: 50000, Proto: 6, TCPFlags: flow.SYN | flow.ACK | flow.PSH | flow.FIN, Bytes: 900, Packets: 5},
		// A session split by an active timeout with a 5-minute idle gap in it.
		{Start: 10 * sec, End: 70 * sec, SrcAddr: cli, DstAddr: srv, SrcPort: 50001, DstPort: 22, Proto: 6, TCPFlags: flow.SYN | flow.ACK | flow.PSH, Bytes: 10, Packets: 1},
		{Start: 370 * sec, End: 430 * sec, SrcAddr: cli, DstAddr: srv, SrcPort: 50001, DstPort: 22, Proto: 6, TCPFlags: flow.ACK | flow.PSH, Bytes: 10, Packets: 1},
		{Start: 430 * sec, End: 431 * sec, SrcAddr: cli, DstAddr: srv, SrcPort: 50001, DstPort: 22, Proto: 6, TCPFlags: flow.ACK | flow.FIN, Bytes: 10, Packets: 1},
		// The port reused by a new connection after the first closed.
		{Start: 500 * sec, End: 501 * sec, SrcAddr: cli, DstAddr: srv, SrcPort: 50001, DstPort: 22, Proto: 6, TCPFlags: flow.SYN | flow.ACK | flow.FIN, Bytes: 10, Packets: 3},
		// An answer whose request was not exported: flipped by its ports.
		{Start: 600 * sec, End: 601 * sec, SrcAddr: srv, DstAddr: cli, SrcPort: 443, DstPort: 50002, Proto: 6, TCPFlags: flow.ACK | flow.PSH, Bytes: 5000, Packets: 4},
	}
	// The detectors get a connection ReplyWait after its start, as it is
	// then: the session's third record joins it later (it makes no new
	// connection).
	got := track(ConnConfig{}, recs)
	if len(got) != 4 {
		t.Fatalf("got %d connections, want 4", len(got))
	}
	want := []struct {
		dport   uint16
		records uint32
		fwd     uint64
		rev     uint64
	}{{443, 2, 100, 900}, {22, 2, 20, 0}, {22, 1, 10, 0}, {443, 1, 0, 5000}}
	for i, w := range want {
		c := got[i]
		if c.srcAddr != cli || c.dstAddr != srv || c.dport != w.dport || c.records != w.records || c.fwdBytes != w.fwd || c.revBytes != w.rev {
			t.Errorf("conn %d: got %v->%v:%d records %d fwd %d rev %d, want %v->%v:%d %d %d %d",
				i, c.srcAddr, c.dstAddr, c.dport, c.records, c.fwdBytes, c.revBytes, cli, srv, w.dport, w.records, w.fwd, w.rev)
		}
	}
}

func TestFailed(t *testing.T) {
	tests := []struct {
		name string
		recs []flow.Record
		want bool
	}{
		{"syn unanswered", []flow.Record{{SrcAddr: cli, DstAddr: srv, SrcPort: 40000, DstPort: 80, Proto: 6, TCPFlags: flow.SYN, Packets: 1}}, true},
		{"refused", []flow.Record{
			{SrcAddr: cli, DstAddr: srv, SrcPort: 40000, DstPort: 80, Proto: 6, TCPFlags: flow.SYN, Packets: 1},
			{Start: 1, SrcAddr: srv, DstAddr: cli, SrcPort: 80, DstPort: 40000, Proto: 6, TCPFlags: flow.RST | flow.ACK, Packets: 1}}, true},
		{"half-open on an open port", []flow.Record{
			{SrcAddr: cli, DstAddr: srv, SrcPort: 40000, DstPort: 80, Proto: 6, TCPFlags: flow.SYN | flow.RST, Packets: 2},
			{Start: 1, SrcAddr: srv, DstAddr: cli, SrcPort: 80, DstPort: 40000, Proto: 6, TCPFlags: flow.SYN | flow.ACK, Packets: 1}}, true},
		// nmap's Xmas scan (-sX): FIN, PSH and URG without data, refused.
		{"xmas probe refused", []flow.Record{
			{SrcAddr: cli, DstAddr: srv, SrcPort: 40000, DstPort: 80, Proto: 6, TCPFlags: flow.FIN | flow.PSH | flow.URG, Packets: 1},
			{Start: 1, SrcAddr: srv, DstAddr: cli, SrcPort: 80, DstPort: 40000, Proto: 6, TCPFlags: flow.RST | flow.ACK, Packets: 1}}, true},
		{"data then reset by the server", []flow.Record{
			{SrcAddr: cli, DstAddr: srv, SrcPort: 40000, DstPort: 80, Proto: 6, TCPFlags: flow.SYN | flow.ACK | flow.PSH, Packets: 4},
			{Start: 1, SrcAddr: srv, DstAddr: cli, SrcPort: 80, DstPort: 40000, Proto: 6, TCPFlags: flow.SYN | flow.ACK | flow.PSH | flow.RST, Packets: 4}}, false},
		{"completed", []flow.Record{
			{SrcAddr: cli, DstAddr: srv, SrcPort: 40000, DstPort: 80, Proto: 6, TCPFlags: flow.SYN | flow.ACK | flow.PSH | flow.FIN, Packets: 6},
			{Start: 1, SrcAddr: srv, DstAddr: cli, SrcPort: 80, DstPort: 40000, Proto: 6, TCPFlags: flow.SYN | flow.ACK | flow.PSH | flow.FIN, Packets: 6}}, false},
		{"biflow completed then reset", []flow.Record{{SrcAddr: cli, DstAddr: srv, SrcPort: 40000, DstPort: 80, Proto: 6,
			TCPFlags: flow.SYN | flow.ACK | flow.PSH | flow.RST, Packets: 6, RevPackets: 5}}, false},
		{"biflow refused", []flow.Record{{SrcAddr: cli, DstAddr: srv, SrcPort: 40000, DstPort: 80, Proto: 6,
			TCPFlags: flow.SYN | flow.ACK | flow.RST, Packets: 1, RevPackets: 1}}, true},
		{"udp answered", []flow.Record{
			{SrcAddr: cli, DstAddr: srv, SrcPort: 40000, DstPort: 53, Proto: 17, Packets: 1},
			{Start: 1, SrcAddr: srv, DstAddr: cli, SrcPort: 53, DstPort: 40000, Proto: 17, Packets: 1}}, false},
		{"udp unanswered", []flow.Record{{SrcAddr: cli, DstAddr: srv, SrcPort: 40000, DstPort: 161, Proto: 17, Packets: 1}}, true},
		// A firewall's record (Cisco ASA's NSEL): bytes both ways, no
		// packet counts and no flags.
		{"firewall record answered", []flow.Record{{SrcAddr: cli, DstAddr: srv, SrcPort: 40000, DstPort: 443, Proto: 6,
			Bytes: 1200, RevBytes: 48000}}, false},
		{"firewall record unanswered", []flow.Record{{SrcAddr: cli, DstAddr: srv, SrcPort: 40000, DstPort: 443, Proto: 6,
			Bytes: 60}}, true},
		{"firewall record denied", []flow.Record{{SrcAddr: cli, DstAddr: srv, SrcPort: 40000, DstPort: 443, Proto: 6}}, true},
		// nmap's ACK ping (-PA) and ACK scan (-sA): a bare ACK, unanswered
		// (filtered, or no host) or reset (a live host).
		{"bare ack unanswered", []flow.Record{{SrcAddr: cli, DstAddr: srv, SrcPort: 40000, DstPort: 80, Proto: 6, TCPFlags: flow.ACK, Packets: 1}}, true},
		// sFlow at 1:1000: one sampled packet of a browsing session is a
		// bare ACK whose answer was not sampled.
		{"bare ack sampled", []flow.Record{{SrcAddr: cli, DstAddr: srv, SrcPort: 40000, DstPort: 443, Proto: 6, TCPFlags: flow.ACK, Packets: 1, SamplingInterval: 1000}}, false},
		{"bare ack reset", []flow.Record{
			{SrcAddr: cli, DstAddr: srv, SrcPort: 40000, DstPort: 80, Proto: 6, TCPFlags: flow.ACK, Packets: 1},
			{Start: 1, SrcAddr: srv, DstAddr: cli, SrcPort: 80, DstPort: 40000, Proto: 6, TCPFlags: flow.RST, Packets: 1}}, true},
		{"bare ack answered", []flow.Record{
			{SrcAddr: cli, DstAddr: srv, SrcPort: 40000, DstPort: 80, Proto: 6, TCPFlags: flow.ACK, Packets: 1},
			{Start: 1, SrcAddr: srv, DstAddr: cli, SrcPort: 80, DstPort: 40000, Proto: 6, TCPFlags: flow.ACK, Packets: 1}}, false},
		// A later piece of a session seen one way (asymmetric routing): acks
		// of data flowing back, more than a probe's.
		{"acks of a session seen one way", []flow.Record{{SrcAddr: cli, DstAddr: srv, SrcPort: 40000, DstPort: 80, Proto: 6, TCPFlags: flow.ACK, Packets: 40}}, false},
	}
	for _, tt := range tests {
		got := track(ConnConfig{}, tt.recs)
		if len(got) != 1 {
			t.Errorf("%s: %d connections, want 1", tt.name, len(got))
			continue
		}
		if got[0].failed() != tt.want {
			t.Errorf("%s: failed %v, want %v", tt.name, got[0].failed(), tt.want)
		}
	}
}

// A server answering many clients (from its service port to their
// ephemeral ports, SYN+ACK without the SYN in the evidence, or data
// records) is not a scanner: its answers are not attempts.
func TestServerRepliesAreNotAttempts(t *testing.T) {
	s := NewScan(ScanConfig{})
	sw := NewSweep(SweepConfig{})
	var recs []flow.Record
	for i := range 300 {
		client := ip4(10, 1, 2, byte(i%3))
		t := int64(i) * sec
		fl := uint8(flow.SYN | flow.ACK)
		if i%2 == 1 {
			fl = flow.ACK | flow.PSH | flow.FIN
		}
		recs = append(recs, flow.Record{Start: t, End: t, SrcAddr: srv, DstAddr: client, SrcPort: 443,
			DstPort: uint16(50000 + i), Proto: 6, TCPFlags: fl, Packets: 1, Bytes: 60})
	}
	// A resolver answering: udp from 53 to the clients' ports.
	for i := range 300 {
		recs = append(recs, flow.Record{Start: 300*sec + int64(i)*sec, SrcAddr: resolver, DstAddr: ip4(10, 1, 3, byte(i)),
			SrcPort: 53, DstPort: uint16(50000 + i), Proto: 17, Packets: 1, Bytes: 120})
	}
	for i := range recs {
		s.Add(&recs[i])
		sw.Add(&recs[i])
	}
	if f := s.Findings(); len(f) != 0 {
		t.Errorf("server replies gave %d scans, first %v -> %v ports %d", len(f), f[0].Source, f[0].Target, f[0].UniquePorts)
	}
	if f := sw.Findings(); len(f) != 0 {
		t.Errorf("server replies gave %d sweeps, first from %v", len(f), f[0].Source)
	}
}

// A client that reaches 20 services of one server over a week is not a
// scanner; the same 20 within an hour is.
func TestTwentyServicesOverAWeek(t *testing.T) {
	for _, tc := range []struct {
		name  string
		every int64
		want  int
	}{{"week", 8 * hr, 0}, {"hour", 2 * mn, 1}} {
		s := NewScan(ScanConfig{})
		for i := range 20 {
			x := gen.Session{Proto: 6, Client: cli, Server: ip4(10, 0, 0, 60), ClientPort: uint16(50000 + i), ServerPort: uint16(8000 + i),
				Start: int64(i) * tc.every, Dur: sec, Up: 500, Down: 5000}
			for _, r := range x.Append(nil) {
				s.Add(&r)
			}
		}
		if got := len(s.Findings()); got != tc.want {
			t.Errorf("%s: %d scans, want %d", tc.name, got, tc.want)
		}
	}
}

// window is checked against a plain map with the same rules: a key lives
// while its last attempt lies within W; its counts run from when it
// became live.
func TestWindowAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	type entry struct {
		last             int64
		attempts, failed uint64
	}
	var w window[uint16]
	naive := map[uint16]*entry{}
	const W = 100
	now := int64(0)
	for i := range 20000 {
		now += int64(rng.IntN(3))
		keys := 5
		if i/2000%2 == 1 {
			keys = 300 // beyond windowIndexAt: found through the map index
		}
		key, fail := uint16(rng.IntN(keys)), rng.IntN(3) == 0
		w.expire(now - W)
		w.touch(key, now, now, fail, 1, 0, 0)
		for k, e := range naive {
			if e.last <= now-W {
				delete(naive, k)
			}
		}
		e := naive[key]
		if e == nil {
			e = &entry{}
			naive[key] = e
		}
		e.last, e.attempts = now, e.attempts+1
		if fail {
			e.failed++
		}
		var attempts, failed uint64
		for _, e := range naive {
			attempts += e.attempts
			failed += e.failed
		}
		if w.live != len(naive) || w.attempts != attempts || w.failed != failed {
			t.Fatalf("step %d: live %d attempts %d failed %d, want %d %d %d", i, w.live, w.attempts, w.failed, len(naive), attempts, failed)
		}
		// Each key's entry, and the queue's order by last attempt (a key
		// attempted again right away is updated in place).
		for k, e := range naive {
			pos := w.find(k)
			if pos < 0 || w.q[pos].last != e.last || uint64(w.q[pos].attempts) != e.attempts || uint64(w.q[pos].failed) != e.failed {
				t.Fatalf("step %d: key %d at %d, want last %d attempts %d failed %d", i, k, pos, e.last, e.attempts, e.failed)
			}
		}
		last := int64(-1)
		w.each(func(e *went[uint16]) {
			if e.last < last {
				t.Fatalf("step %d: key %d (last %d) after one at %d", i, e.key, e.last, last)
			}
			last = e.last
		})
	}
}

func TestICMPErrorsAreSeparate(t *testing.T) {
	var recs []flow.Record
	for i := range 5 {
		recs = append(recs, flow.Record{Start: int64(i) * sec, SrcAddr: srv, DstAddr: cli, Proto: 1, ICMPType: 3, ICMPCode: 3, Packets: 1})
	}
	got := track(ConnConfig{}, recs)
	if len(got) != 5 {
		t.Fatalf("%d connections, want 5", len(got))
	}
	if !got[0].icmpErr || got[0].srcAddr != cli || got[0].dstAddr != srv {
		t.Errorf("unreachable: err %v %v->%v, want true %v->%v", got[0].icmpErr, got[0].srcAddr, got[0].dstAddr, cli, srv)
	}
}

func TestCanonSymmetric(t *testing.T) {
	r1 := flow.Record{SrcPort: 1, DstPort: 2, Proto: 6}
	r2 := flow.Record{SrcPort: 2, DstPort: 1, Proto: 6}
	k1, lo1 := canon(&r1, 7, 3)
	k2, lo2 := canon(&r2, 3, 7)
	if k1 != k2 || lo1 == lo2 {
		t.Errorf("canon not symmetric: %v %v / %v %v", k1, lo1, k2, lo2)
	}
}

func (t *connTable) get(k ckey) (uint32, bool) {
	i, ok := t.find(k)
	return t.slots[i].val, ok
}

// connTable is checked against a plain map through inserts, lookups and
// deletions (by key and by value), across growth.
func TestConnTableAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	tab := newConnTable()
	naive := map[ckey]uint32{}
	key := func() ckey {
		return ckey{uint32(rng.IntN(50)), uint32(rng.IntN(50)), uint16(rng.IntN(30)), 443, 6}
	}
	for step := range 200000 {
		k := key()
		switch rng.IntN(3) {
		case 0, 1:
			v := uint32(step)
			i, found := tab.find(k)
			_, want := naive[k]
			if found != want {
				t.Fatalf("step %d: find %v found %v, want %v", step, k, found, want)
			}
			tab.put(i, k, v, found)
			naive[k] = v
		default:
			if v, ok := naive[k]; ok && step%2 == 0 {
				tab.delValue(v)
			} else {
				tab.del(k)
			}
			delete(naive, k)
		}
		if step%1000 == 0 {
			for k, v := range naive {
				if got, ok := tab.get(k); !ok || got != v {
					t.Fatalf("step %d: get %v = %d %v, want %d", step, k, got, ok, v)
				}
			}
			if tab.n != len(naive) {
				t.Fatalf("step %d: %d entries, want %d", step, tab.n, len(naive))
			}
			for i, s := range tab.slots {
				if s.used && int(tab.at[s.val]) != i {
					t.Fatalf("step %d: value %d in slot %d, at says %d", step, s.val, i, tab.at[s.val])
				}
			}
		}
	}
}

// A traceroute (UDP probes, three a hop, each to the next port from 33434,
// unanswered but for the target's last port unreachables) is listed as
// such, severity info, and not counted as a scan alert; UDP probes that
// reach past traceroute's ports are a scan.
func TestTraceroute(t *testing.T) {
	for _, tc := range []struct {
		name     string
		first    uint16
		wantKind string
	}{{"traceroute", 33434, KindTraceroute}, {"a UDP scan beyond traceroute's ports", 33500, KindScan}} {
		s := NewScan(ScanConfig{})
		var recs []flow.Record
		for i := range 90 {
			at := int64(i) * sec / 10
			port := tc.first + uint16(i)
			recs = append(recs, flow.Record{Start: at, End: at, SrcAddr: cli, DstAddr: srv, SrcPort: 41000, DstPort: port, Proto: 17, Packets: 1, Bytes: 60})
			if i >= 87 {
				recs = append(recs, flow.Record{Start: at + 1e6, End: at + 1e6, SrcAddr: srv, DstAddr: cli, Proto: 1, DstPort: 3<<8 | 3, ICMPType: 3, ICMPCode: 3, Packets: 1, Bytes: 88})
			}
		}
		for i := range recs {
			s.Add(&recs[i])
		}
		fs := s.Findings()
		if len(fs) != 1 || fs[0].Kind != tc.wantKind || fs[0].UniquePorts != 90 {
			t.Fatalf("%s: got %+v, want one finding of kind %s over 90 ports", tc.name, fs, tc.wantKind)
		}
		sum := BuildReport(ReportInput{Scans: fs}).Summary
		if tc.wantKind == KindTraceroute && (fs[0].Severity != "info" || sum.ScanAlerts != 0 || sum.Traceroutes != 1) {
			t.Errorf("traceroute: severity %q, summary %+v; want info, no alert, one traceroute", fs[0].Severity, sum)
		}
		if tc.wantKind == KindScan && (fs[0].Severity != "high" || sum.ScanAlerts != 1) {
			t.Errorf("scan: severity %q, summary %+v; want high and one alert", fs[0].Severity, sum)
		}
	}
}
