package detectors

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// TestBeaconWholeSecondTimes: a beacon without jitter whose check-ins come
// every 60.25 s (the sleep and the work of each), in evidence that keeps
// whole seconds (many CSV exports, NDJSON with RFC 3339 seconds), has
// intervals of 60 s and, one in four, 61 s. Its first quartile and median
// are the same tick, and Bowley's skew, (Q3+Q1-2·Q2)/(Q3-Q1), was 1: the
// perfect beacon scored 0.7365 on a skew of the rounding, while the same
// beacon at 60.05 s (intervals of 60 s, one in twenty 61 s) scored 0.982.
// The skew of a sample whose quartile equals its median is taken as 0, as
// RITA takes it.
func TestBeaconWholeSecondTimes(t *testing.T) {
	for _, period := range []time.Duration{60050 * time.Millisecond, 60250 * time.Millisecond} {
		b := NewBeacon(BeaconConfig{From: t0, To: t0 + 7*24*hr})
		for i := range int64(7 * 24 * 59) {
			at := t0 + i*int64(period)
			r := beatConn(1, at/sec*sec, uint16(20000+i%40000), 1200)
			r.End = r.Start + sec
			b.Add(&r)
		}
		got := b.Findings()
		if len(got) != 1 {
			t.Fatalf("%v: %d findings, want 1", period, len(got))
		}
		f := got[0]
		if f.ConnectionCount != 9912 || f.MedianInterval != 60 || f.MADInterval != 0 || f.BowleySkew != 0 ||
			f.Parts.Skew != 1 || f.Parts.Interval != 0.9844 || f.Score != 0.982 {
			t.Errorf("%v: %d connections, median %v, MAD %v, skew %v (part %v), interval part %v, score %v; want 9912, 60, 0, 0 (1), 0.9844, 0.982",
				period, f.ConnectionCount, f.MedianInterval, f.MADInterval, f.BowleySkew, f.Parts.Skew, f.Parts.Interval, f.Score)
		}
	}
}

// TestBeaconImplantsAndPollers pins a week of implants and everyday pollers
// as an investigator would meet them: Cobalt Strike's sleep of 60 s with
// 20 % and 50 % jitter, an hourly implant with 10 %, one active in office
// hours only (5 min, 20 %), one of a GET and a POST at each check-in
// (found on its beats), a DNS beacon to the resolver, an SNMP poll every
// 60 s and Prometheus scrapes every 15 s (found: they are periodic, as RITA
// finds them), and what is not a beacon: NTP (excluded), a person browsing
// a site at random times, a session exported every 60 s by an active
// timeout (one connection). The pollers, perfectly regular, rank above the
// implants with heavy jitter: the score measures regularity, not intent.
func TestBeaconImplantsAndPollers(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const week = 7 * 24 * hr
	c2 := ip4(203, 0, 113, 66)
	var recs []flow.Record
	conn := func(src byte, dst netip.Addr, port uint16, proto uint8, at int64, up, down uint64) {
		r := flow.Record{Start: at, End: at + 250*int64(time.Millisecond), SrcAddr: ip4(10, 1, 1, src), DstAddr: dst,
			SrcPort: uint16(49152 + rng.IntN(16000)), DstPort: port, Proto: proto, Bytes: up, Packets: 6, RevBytes: down, RevPackets: 5}
		if proto == flow.ProtoTCP {
			r.TCPFlags = flow.SYN | flow.ACK | flow.PSH | flow.FIN
		}
		recs = append(recs, r)
	}
	every := func(period int64, jitter func(*rand.Rand) float64, keep func(int64) bool, f func(int64)) {
		for at := t0 + int64(rng.IntN(int(period))); at < t0+week; at += int64(float64(period) * jitter(rng)) {
			if keep == nil || keep(at) {
				f(at)
			}
		}
	}
	officeHours := func(at int64) bool {
		h := (at - t0) % (24 * hr) / hr
		return workday(int((at-t0)/(24*hr))) && h >= 8 && h < 18
	}
	every(mn, csJitter(0.2), nil, func(at int64) { conn(1, c2, 443, flow.ProtoTCP, at, 600, 1200) })
	every(mn, csJitter(0.5), nil, func(at int64) { conn(2, c2, 443, flow.ProtoTCP, at, 600, 1200) })
	every(hr, uniformJitter(0.1), nil, func(at int64) { conn(3, c2, 8443, flow.ProtoTCP, at, 900, 2400) })
	every(5*mn, csJitter(0.2), officeHours, func(at int64) { conn(4, c2, 443, flow.ProtoTCP, at, 600, 1200) })
	every(5*mn, csJitter(0.2), nil, func(at int64) {
		conn(5, c2, 80, flow.ProtoTCP, at, 300, 900)
		conn(5, c2, 80, flow.ProtoTCP, at+800*int64(time.Millisecond), 1400, 300)
	})
	every(mn, csJitter(0.2), nil, func(at int64) { conn(6, resolver, 53, flow.ProtoUDP, at, 90, 220) })
	every(mn, uniformJitter(0.0001), nil, func(at int64) { conn(7, ip4(10, 3, 0, 1), 161, flow.ProtoUDP, at, 90, 300) })
	every(15*sec, uniformJitter(0.01), nil, func(at int64) {
		conn(8, ip4(10, 3, 0, 2), 9100, flow.ProtoTCP, at, 300, 40000+uint64(rng.IntN(2000)))
	})
	every(64*sec, uniformJitter(0), nil, func(at int64) { conn(9, ip4(10, 0, 0, 123), 123, flow.ProtoUDP, at, 76, 76) })
	for at := t0; at < t0+week; at += int64(rng.ExpFloat64() * float64(10*mn)) {
		if officeHours(at) {
			conn(10, ip4(198, 51, 100, 80), 443, flow.ProtoTCP, at, 900, 1500+uint64(rng.IntN(200000)))
		}
	}
	for at := t0; at < t0+24*hr; at += mn {
		r := flow.Record{Start: at, End: at + mn - sec, SrcAddr: ip4(10, 1, 1, 11), DstAddr: c2, SrcPort: 51000, DstPort: 443,
			Proto: flow.ProtoTCP, TCPFlags: flow.ACK | flow.PSH, Bytes: 120, Packets: 2, RevBytes: 120, RevPackets: 2}
		if at == t0 {
			r.TCPFlags |= flow.SYN
		}
		recs = append(recs, r)
	}
	sortByStart(recs)
	b := NewBeacon(BeaconConfig{From: t0, To: t0 + week})
	for i := range recs {
		b.Add(&recs[i])
	}
	var got []string
	for _, f := range b.Findings() {
		got = append(got, fmt.Sprintf("%v->%v:%d/%s n=%d beats=%d median=%v score=%v", f.Source, f.Destination, f.Port, f.Proto,
			f.ConnectionCount, f.Beats, f.MedianInterval, f.Score))
	}
	want := []string{
		"10.1.1.8->10.3.0.2:9100/tcp n=40319 beats=0 median=15.002 score=0.9681",
		"10.1.1.7->10.3.0.1:161/udp n=10080 beats=0 median=60 score=0.9491",
		"10.1.1.6->10.0.0.53:53/udp n=11195 beats=0 median=53.946 score=0.874",
		"10.1.1.1->203.0.113.66:443/tcp n=11190 beats=0 median=54.1 score=0.8714",
		"10.1.1.5->203.0.113.66:80/tcp n=4488 beats=2244 median=269.309 score=0.8624",
		"10.1.1.3->203.0.113.66:8443/tcp n=168 beats=0 median=3624.163 score=0.8016",
		"10.1.1.4->203.0.113.66:443/tcp n=669 beats=0 median=269.518 score=0.6852",
		"10.1.1.2->203.0.113.66:443/tcp n=13439 beats=0 median=44.501 score=0.6403",
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Below the threshold or no candidate at all: the person browsing
	// (random intervals: 0 on Interval), NTP, the long session.
	browsing := false
	for _, f := range b.Candidates() {
		switch f.Source {
		case ip4(10, 1, 1, 10):
			browsing = true
			if f.Score != 0 {
				t.Errorf("browsing scored %v, want 0", f.Score)
			}
		case ip4(10, 1, 1, 9), ip4(10, 1, 1, 11):
			t.Errorf("%v is a candidate: %+v", f.Source, f)
		}
	}
	if !browsing {
		t.Error("the person browsing is no candidate")
	}
}

// TestBeaconShortPeriodBeats: check-ins every 5 s less up to 20 % of two
// connections a second apart are less than BeatGap (5 s) apart, so all of
// a day's run into one beat, and on connections (1 s, then 3 to 4 s) the
// intervals are irregular: the beacon scored 0. Its beats at the fine gap
// (2/5 of BeatGap: 2 s) are scored when those at BeatGap do not qualify,
// so it is found at the default as with --beat-gap 2s, every one of its
// 19,193 beats counted (past MaxIntervals too).
func TestBeaconShortPeriodBeats(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var recs []flow.Record
	for at := t0; at < t0+24*hr; at += int64(float64(5*sec) * csJitter(0.2)(rng)) {
		recs = append(recs, beatConn(1, at, uint16(1024+rng.IntN(60000)), 1200), beatConn(1, at+sec, uint16(1024+rng.IntN(60000)), 300))
	}
	var got []string
	for _, gap := range []time.Duration{0, 2 * time.Second} {
		b := NewBeacon(BeaconConfig{From: t0, To: t0 + 24*hr, BeatGap: gap})
		for i := range recs {
			b.Add(&recs[i])
		}
		for _, f := range b.Candidates() {
			got = append(got, fmt.Sprintf("gap %v: n=%d beats=%d median=%v score=%v", gap, f.ConnectionCount, f.Beats, f.MedianInterval, f.Score))
		}
	}
	want := []string{
		"gap 0s: n=38386 beats=19193 median=4.505 score=0.8568", // the default, 5 s: at 2 s
		"gap 2s: n=38386 beats=19193 median=4.505 score=0.8568",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
