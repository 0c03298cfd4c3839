package detectors

import (
	"math"
	"testing"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// beatConn is a short HTTPS connection of src to 198.51.100.9:443.
func beatConn(src byte, start int64, port uint16, down uint64) flow.Record {
	return flow.Record{Start: start, End: start + 300*int64(time.Millisecond), SrcAddr: ip4(10, 0, 0, src),
		DstAddr: ip4(198, 51, 100, 9), SrcPort: port, DstPort: 443, Proto: flow.ProtoTCP,
		TCPFlags: flow.SYN | flow.ACK | flow.PSH | flow.FIN, Bytes: 400, Packets: 5, RevBytes: down, RevPackets: 4}
}

// TestBeaconBeats: a check-in every 60 s of two connections 1.5 s apart is
// a beacon of 180 beats over three hours; one of a varying number of
// connections (one to six, as page views) is scored on its connections
// only (whose median interval is the second between them); a connection opened beside the last one (it starts before that
// one's last record) follows it at 0 s, not at a wrapped interval.
func TestBeaconBeats(t *testing.T) {
	cfg := BeaconConfig{From: t0, To: t0 + 3*hr}
	b := NewBeacon(cfg)
	port := uint16(40000)
	var recs []flow.Record
	for i := range int64(180) {
		at := t0 + i*mn
		port += 2
		recs = append(recs, beatConn(1, at, port, 1200), beatConn(1, at+1500*int64(time.Millisecond), port+1, 5000))
		for k := range 1 + i%6 {
			recs = append(recs, beatConn(2, at+int64(k)*int64(time.Second), port+uint16(k), 800))
		}
	}
	sortByStart(recs)
	for i := range recs {
		b.Add(&recs[i])
	}
	all := b.Candidates()
	if len(all) != 2 {
		t.Fatalf("got %d candidates, want 2", len(all))
	}
	f, g := all[0], all[1]
	if f.Source != ip4(10, 0, 0, 1) {
		f, g = g, f
	}
	if f.ConnectionCount != 360 || f.Beats != 180 || f.MedianInterval != 60 || f.JitterRatio != 0 || f.MeanInterval != 60 ||
		f.MedianBytes != 400+1200+400+5000 || f.IntervalsEvaluated != 179 || f.Score < 0.9 {
		t.Errorf("two connections a beat: %+v", f)
	}
	if g.Beats != 0 || g.ConnectionCount != 630 || g.MedianInterval != 1 {
		t.Errorf("one to six connections a beat: %d beats of %d connections, median interval %v; want scored on connections (1 s apart)",
			g.Beats, g.ConnectionCount, g.MedianInterval)
	}

	// A long connection's later record, then a parallel connection that
	// starts before it: the interval is 0, not 49 days.
	b = NewBeacon(BeaconConfig{From: t0, To: t0 + hr, MinConnections: 3})
	long := beatConn(3, t0, 50000, 100)
	later := beatConn(3, t0+10*sec, 50000, 100)
	later.TCPFlags = flow.ACK | flow.PSH
	long.TCPFlags = flow.SYN | flow.ACK | flow.PSH
	recs = []flow.Record{long, beatConn(3, t0+2*sec, 50001, 100), later, beatConn(3, t0+20*sec, 50002, 100), beatConn(3, t0+30*sec, 50003, 100)}
	sortByStart(recs)
	for i := range recs {
		b.Add(&recs[i])
	}
	var sc scratch
	b.sync()
	for i := range b.full.len() {
		for _, o := range b.obsOf(b.full.at(uint32(i)), &sc, nil) {
			if o.ival > uint32(time.Hour/time.Millisecond) {
				t.Errorf("interval of %d ms", o.ival)
			}
		}
	}
}

// TestBeaconScheduledTransfer: a nightly transfer of 500 MB at 02:00 (a
// backup) is a scheduled transfer, not a beacon; the same connections
// carrying a check-in's few hundred bytes are one.
func TestBeaconScheduledTransfer(t *testing.T) {
	for _, c := range []struct {
		up    uint64
		found bool
	}{{500e6, false}, {600, true}} {
		b := NewBeacon(BeaconConfig{From: t0, To: t0 + 21*24*hr})
		for d := range int64(21) {
			r := beatConn(4, t0+d*24*hr+2*hr, uint16(40000+d), 400)
			r.Bytes = c.up
			b.Add(&r)
		}
		if got := b.Findings(); (len(got) == 1) != c.found {
			t.Errorf("%d bytes a night: %d findings, want found %v", c.up, len(got), c.found)
		}
	}
}

// TestBeaconCoverageInLongRange: a regular beacon that ran for one day
// scores in a three-week range as in a week (its coverage is measured
// against at most a week, having 50 intervals or more), while a pair of
// ten connections two days apart is covered against the whole range.
func TestBeaconCoverageInLongRange(t *testing.T) {
	score := func(days int64, recs []flow.Record) BeaconFinding {
		b := NewBeacon(BeaconConfig{From: t0, To: t0 + days*24*hr})
		// Other hosts' traffic all through the range, to a new destination
		// each time (no candidate), as in a case: the range is observed.
		var other []flow.Record
		for i := range days * 4 {
			r := beatConn(7, t0+i*6*hr, 50000, 300)
			r.DstAddr = ip4(203, 0, byte(i/250), byte(i%250+1))
			other = append(other, r)
		}
		in := append(other, recs...)
		sortByStart(in)
		for i := range in {
			b.Add(&in[i])
		}
		all := b.Candidates()
		if len(all) != 1 {
			t.Fatalf("%d candidates, want 1", len(all))
		}
		return all[0]
	}
	var day []flow.Record
	for i := range int64(2880) {
		day = append(day, beatConn(5, t0+i*30*sec, uint16(20000+i%30000), 300))
	}
	week, weeks := score(7, day), score(21, day)
	if weeks.Score != week.Score || weeks.Coverage != week.Coverage || weeks.Score < DefaultBeaconThreshold {
		t.Errorf("one day's beacon: %v (coverage %v) in three weeks, %v (%v) in one; want the same, found", weeks.Score, weeks.Coverage, week.Score, week.Coverage)
	}
	var sparse []flow.Record
	for i := range int64(10) {
		sparse = append(sparse, beatConn(6, t0+i*48*hr, uint16(30000+i), 300))
	}
	// Nine intervals of 48 h: 18 days of a 21-day range, all of a week's.
	if got := score(21, sparse); got.Coverage != round(9*48.0/(21*24)) {
		t.Errorf("sparse pair: coverage %v, want %v (against the whole range)", got.Coverage, round(9*48.0/(21*24)))
	}
}

// TestBeaconSilences: time without a single record for more than a week is
// not observed time. A stray flow a year before the case, or a range that
// starts a year ahead of the evidence, leaves a beacon's coverage (and
// score) as it is in the case's own week; without the silences taken out, the
// sparse beacon below (11 intervals) was measured over a year and missed.
func TestBeaconSilences(t *testing.T) {
	var recs []flow.Record
	for i := range int64(7 * 24 * 12) { // every 5 min for a week
		recs = append(recs, beatConn(5, t0+i*300*sec, uint16(20000+i%30000), 300))
	}
	for i := range int64(12) { // a sparse one: every 12 h for 6 days
		recs = append(recs, beatConn(6, t0+i*12*hr, uint16(10000+i), 300))
	}
	stray := beatConn(9, t0-365*24*hr, 33000, 300)
	stray.DstAddr = ip4(203, 0, 113, 7)
	score := func(cfg BeaconConfig, recs []flow.Record) []BeaconFinding {
		t.Helper()
		b := NewBeacon(cfg)
		for i := range recs {
			b.Add(&recs[i])
		}
		all := b.Candidates()
		if len(all) != 2 {
			t.Fatalf("%d candidates, want 2", len(all))
		}
		return all
	}
	week := score(BeaconConfig{From: t0, To: t0 + 7*24*hr}, recs)
	for _, w := range week {
		if w.Score < DefaultBeaconThreshold {
			t.Fatalf("in its week, %v scores %v, want a finding", w.Source, w.Score)
		}
	}
	cases := map[string]struct {
		cfg  BeaconConfig
		recs []flow.Record
	}{
		"stray flow, records' span": {BeaconConfig{}, append([]flow.Record{stray}, recs...)},
		"stray flow, its range":     {BeaconConfig{From: stray.Start, To: t0 + 7*24*hr}, append([]flow.Record{stray}, recs...)},
		"range a year ahead":        {BeaconConfig{From: t0 - 365*24*hr, To: t0 + 7*24*hr}, recs},
		"range a year after":        {BeaconConfig{From: t0, To: t0 + 372*24*hr}, recs},
	}
	for name, c := range cases {
		got := score(c.cfg, c.recs)
		for i := range got {
			// The records' own span is 5 minutes short of the week.
			if got[i].Source != week[i].Source || got[i].Score != week[i].Score || math.Abs(got[i].Coverage-week[i].Coverage) > 0.001 {
				t.Errorf("%s: %v scores %v (coverage %v), want %v (%v) as in its week", name, got[i].Source, got[i].Score, got[i].Coverage, week[i].Score, week[i].Coverage)
			}
		}
	}
}

// TestBeaconBeatsPastCap: a week of check-ins every 60 s, each a GET and a
// POST 1.5 s apart (20,160 connections, 10,080 beats), is scored on all
// its beats, as the connections of a beacon past MaxIntervals are: the
// beats had been counted in the first 4,096 observations alone (2,049),
// so the beacon covered a fifth of the week (0.2032) and scored 0.7177
func TestBeaconBeatsPastCap(t *testing.T) {
	b := NewBeacon(BeaconConfig{From: t0, To: t0 + 7*24*hr})
	port := uint16(40000)
	var recs []flow.Record
	for i := range int64(7 * 24 * 60) {
		at := t0 + 17*sec + i*mn
		port += 2
		recs = append(recs, beatConn(1, at, port, 1200), beatConn(1, at+1500*int64(time.Millisecond), port+1, 5000))
	}
	for i := range recs {
		b.Add(&recs[i])
	}
	got := b.Findings()
	if len(got) != 1 {
		t.Fatalf("%d findings, want 1", len(got))
	}
	f := got[0]
	// 10,079 intervals of 60 s over the week less the first 17 s and the
	// last check-in's 43 s.
	if f.ConnectionCount != 20160 || f.Beats != 10080 || f.MedianInterval != 60 || f.MeanInterval != 60 ||
		f.Coverage != round(10079*60.0/(7*24*3600)) || f.Parts.Coverage != 1 || f.IntervalsEvaluated != 2048 ||
		f.Score != 0.9779 || f.FirstSeenNS != t0+17*sec || f.LastSeenNS != t0+17*sec+10079*mn+1500*int64(time.Millisecond) {
		t.Errorf("got %d connections, %d beats, median %v, mean %v, coverage %v (part %v), %d intervals, score %v, span %d..%d",
			f.ConnectionCount, f.Beats, f.MedianInterval, f.MeanInterval, f.Coverage, f.Parts.Coverage, f.IntervalsEvaluated,
			f.Score, f.FirstSeenNS-t0, f.LastSeenNS-t0)
	}
}

// TestBeaconLiveAtEnd: an implant installed six hours before the evidence
// was collected, checking in every 60 s to the end of the week (360
// connections), is covered against three days (the floor of the time from
// its first connection to the range's end) and found (0.5009); it scored 0.1754
// against the week, as a burst. The same beacon stopped two days before
// the end, or two hours before it, is covered against the week as before;
// a scripted burst at the very end (120 connections every 60 s) stays at 0
// on Coverage; 20 regular connections in the last six hours (19
// intervals) are too little evidence for the leniency and stay covered
// against the week (0.1093; 0.396 against three days).
func TestBeaconLiveAtEnd(t *testing.T) {
	const week = 7 * 24 * hr
	end := t0 + week
	series := func(src byte, first int64, n int, every int64) []flow.Record {
		var recs []flow.Record
		for i := range int64(n) {
			recs = append(recs, beatConn(src, first+i*every, uint16(20000+i), 300))
		}
		return recs
	}
	score := func(recs []flow.Record) BeaconFinding {
		t.Helper()
		b := NewBeacon(BeaconConfig{From: t0, To: end})
		// Other hosts' traffic all week, to a new destination each time.
		var in []flow.Record
		for i := range int64(7 * 4) {
			r := beatConn(7, t0+i*6*hr, 50000, 300)
			r.DstAddr = ip4(203, 0, 0, byte(i+1))
			in = append(in, r)
		}
		in = append(in, recs...)
		sortByStart(in)
		for i := range in {
			b.Add(&in[i])
		}
		all := b.Candidates()
		if len(all) != 1 {
			t.Fatalf("%d candidates, want 1", len(all))
		}
		return all[0]
	}
	live := score(series(5, end-6*hr+17*sec, 360, mn))
	// 359 intervals of 60 s over 72 hours.
	if live.ConnectionCount != 360 || live.MedianInterval != 60 || live.Coverage != round(359*60.0/(72*3600)) ||
		live.Parts != (BeaconParts{Interval: 0.9472, Skew: 1, Size: 1, Coverage: 0.2797}) || live.Score != 0.5009 ||
		live.FirstSeenNS != end-6*hr+17*sec || live.LastSeenNS != end-43*sec {
		t.Errorf("live the last 6 hours: %d connections, median %v, coverage %v, parts %+v, score %v, %s..%s",
			live.ConnectionCount, live.MedianInterval, live.Coverage, live.Parts, live.Score, live.FirstSeen, live.LastSeen)
	}
	for name, first := range map[string]int64{"stopped 2 days before the end": end - 56*hr, "stopped 2 hours before the end": end - 8*hr} {
		got := score(series(5, first+17*sec, 360, mn))
		if got.Coverage != round(359*60.0/(7*24*3600)) || got.Score != 0.1754 {
			t.Errorf("%s: coverage %v, score %v; want against the week, 0.1754", name, got.Coverage, got.Score)
		}
	}
	burst := score(series(6, end-2*hr+17*sec, 120, mn))
	if burst.Parts.Coverage != 0 || burst.Score != 0 {
		t.Errorf("a burst of two hours at the end: coverage %v (part %v), score %v; want 0", burst.Coverage, burst.Parts.Coverage, burst.Score)
	}
	sparse := score(series(6, end-6*hr+17*sec, 20, 18*mn))
	if sparse.Coverage != round(19*18.0/(7*24*60)) || sparse.Score != 0.1093 {
		t.Errorf("20 connections in the last 6 hours: coverage %v, score %v; want against the week, 0.1093", sparse.Coverage, sparse.Score)
	}
}
