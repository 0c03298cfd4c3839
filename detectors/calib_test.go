package detectors

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/internal/gen"
)

// Beacon calibration: many planted beacons (periods 30 s to 1 h; no,
// uniform or Cobalt-Strike-style jitter up to 50 %; one to seven days; all
// day or office hours; missed beats; sizes constant, noisy, or with
// occasional tasking) and decoys of three kinds: random intervals
// (exponential, uniform 10-600 s, log-normal, bursty human sessions, all
// with constant sizes, which is the hard case), long sessions (an SSH
// session and a video call exported every 60 s by an active timeout), and
// short scripted bursts (60 regular connections within two hours); then
// beats, page views and daily habits (addBeats, addPageViews), and
// implants that started late in the week and run to its end, with the
// decoys that leniency towards them would let through (addLate). Each
// candidate gets its own source address; all go through a Beacon detector
// over a seven-day window.

type calibSample struct {
	src    netip.Addr
	name   string
	beacon bool
}

type calibSet struct {
	recs    []flow.Record
	samples []calibSample
	rng     *rand.Rand
}

func (cs *calibSet) next(name string, beacon bool) netip.Addr {
	n := len(cs.samples)
	a := ip4(10, 9, byte(n/250), byte(1+n%250))
	cs.samples = append(cs.samples, calibSample{a, name, beacon})
	return a
}

func (cs *calibSet) conn(src netip.Addr, t int64, down uint64) {
	dst := ip4(198, 18, 0, 1)
	cs.recs = append(cs.recs,
		flow.Record{Start: t, End: t + 200*int64(time.Millisecond), SrcAddr: src, DstAddr: dst, SrcPort: uint16(49152 + cs.rng.IntN(16000)),
			DstPort: 443, Proto: flow.ProtoTCP, TCPFlags: flow.SYN | flow.ACK | flow.PSH | flow.FIN, Bytes: 420, Packets: 5, RevBytes: down, RevPackets: 4})
}

type sizeFn func(r *rand.Rand) uint64

var sizeKinds = map[string]sizeFn{
	"const": func(r *rand.Rand) uint64 { return 320 },
	"noisy": func(r *rand.Rand) uint64 { return uint64(300 + r.IntN(60)) },
	"tasking": func(r *rand.Rand) uint64 {
		return map[bool]uint64{true: uint64(5000 + r.IntN(50000)), false: 320}[r.IntN(10) == 0]
	},
}

func (cs *calibSet) addBeacons() {
	const week = 7 * 24 * hr
	jitters := map[string]func(*rand.Rand) float64{
		"none": uniformJitter(0), "u10": uniformJitter(0.1), "u25": uniformJitter(0.25),
		"cs20": csJitter(0.2), "cs30": csJitter(0.3), "cs50": csJitter(0.5),
	}
	for _, period := range []int64{30 * sec, mn, 5 * mn, 15 * mn, hr} {
		for _, jn := range sortedNames(jitters) {
			for _, days := range []int64{1, 3, 7} {
				for _, office := range []bool{false, true} {
					for _, sk := range []string{[]string{"const", "noisy", "tasking"}[len(cs.samples)%3]} {
						miss := 0.0
						if cs.rng.IntN(2) == 0 {
							miss = 0.1
						}
						if office && days == 1 {
							continue
						}
						name := fmt.Sprintf("beacon p=%v j=%s d=%d office=%v size=%s miss=%v", time.Duration(period), jn, days, office, sk, miss)
						src := cs.next(name, true)
						start := t0 + int64(cs.rng.IntN(int(7-days)+1))*24*hr
						for t := start; t < start+days*24*hr && t < t0+week; t += int64(float64(period) * jitters[jn](cs.rng)) {
							h := (t - t0) % (24 * hr) / hr
							if office && (!workday(int((t-t0)/(24*hr))) || h < 8 || h >= 18) || cs.rng.Float64() < miss {
								continue
							}
							cs.conn(src, t, sizeKinds[sk](cs.rng))
						}
					}
				}
			}
		}
	}
}

func sortedNames[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (cs *calibSet) addRandom() {
	const week = 7 * 24 * hr
	gaps := map[string]func(*rand.Rand) float64{ // seconds
		"exp60":     func(r *rand.Rand) float64 { return r.ExpFloat64() * 60 },
		"exp300":    func(r *rand.Rand) float64 { return r.ExpFloat64() * 300 },
		"exp1800":   func(r *rand.Rand) float64 { return r.ExpFloat64() * 1800 },
		"uni10-600": func(r *rand.Rand) float64 { return 10 + 590*r.Float64() },
		"lognorm":   func(r *rand.Rand) float64 { return math.Exp(5 + r.NormFloat64()) },
		"human": func(r *rand.Rand) float64 { // bursts within sessions, long pauses between
			if r.IntN(15) == 0 {
				return 1800 + r.ExpFloat64()*7200
			}
			return 5 + r.ExpFloat64()*40
		},
	}
	for _, gn := range sortedNames(gaps) {
		for rep := range 12 {
			for _, sk := range []string{"const", "noisy"} {
				src := cs.next(fmt.Sprintf("random %s size=%s #%d", gn, sk, rep), false)
				for t := t0 + int64(cs.rng.IntN(3600))*sec; t < t0+week; t += int64(gaps[gn](cs.rng)*1e9) + 1 {
					cs.conn(src, t, sizeKinds[sk](cs.rng))
				}
			}
		}
	}
}

// addSparse: pairs with few connections at random office-hour times over
// the week (as browsing makes them), and sparse beacons: one office day
// at a one-hour period, or a few days at four hours.
func (cs *calibSet) addSparse() {
	for rep := range 300 {
		n := 10 + rep%30
		src := cs.next(fmt.Sprintf("sparse random n=%d #%d", n, rep), false)
		var ts []int64
		for len(ts) < n {
			d := cs.rng.IntN(5)
			ts = append(ts, t0+int64(d)*24*hr+8*hr+int64(cs.rng.IntN(10*3600))*sec)
		}
		slices.Sort(ts)
		for _, t := range ts {
			cs.conn(src, t, sizeKinds["noisy"](cs.rng))
		}
	}
	for rep := range 20 {
		src := cs.next(fmt.Sprintf("sparse beacon 1h office day #%d", rep), true)
		start := t0 + int64(rep%5)*24*hr + 8*hr
		for t := start; t < start+10*hr+sec; t += int64(float64(hr) * uniformJitter(0.05)(cs.rng)) {
			cs.conn(src, t, sizeKinds["noisy"](cs.rng))
		}
		src = cs.next(fmt.Sprintf("sparse beacon 4h week #%d", rep), true)
		for t := t0 + int64(rep)*mn; t < t0+7*24*hr; t += int64(float64(4*hr) * csJitter(0.2)(cs.rng)) {
			cs.conn(src, t, sizeKinds["noisy"](cs.rng))
		}
	}
}

func (cs *calibSet) addBursts() {
	for rep := range 20 {
		src := cs.next(fmt.Sprintf("burst 60 x %ds #%d", 30+rep*6, rep), false)
		start := t0 + int64(cs.rng.IntN(6*24))*hr
		for i := range 60 {
			cs.conn(src, start+int64(i)*int64(30+rep*6)*sec, 320)
		}
	}
}

// addBeats: beacons whose every check-in opens two or three connections
// within a few seconds (a GET, then a POST of its results), all day for
// three or seven days. Scored on connections, their intervals alternate
// between seconds and the period; scored on beats, they are regular.
func (cs *calibSet) addBeats() {
	jitters := map[string]func(*rand.Rand) float64{"u10": uniformJitter(0.1), "cs30": csJitter(0.3)}
	for _, period := range []int64{mn, 5 * mn, 15 * mn} {
		for _, jn := range sortedNames(jitters) {
			for _, per := range []int{2, 3} {
				for _, days := range []int64{3, 7} {
					src := cs.next(fmt.Sprintf("beats p=%v j=%s conns=%d d=%d", time.Duration(period), jn, per, days), true)
					start := t0 + int64(cs.rng.IntN(int(7-days)+1))*24*hr
					for t := start; t < start+days*24*hr && t < t0+7*24*hr; t += int64(float64(period) * jitters[jn](cs.rng)) {
						at := t
						for k := range per {
							cs.conn(src, at, uint64(320+k*2000+cs.rng.IntN(60)))
							at += int64(200+cs.rng.IntN(2800)) * int64(time.Millisecond)
						}
					}
				}
			}
		}
	}
}

// addPageViews: a person browsing one site: page views at random times
// (exponential gaps of 5 or 30 minutes, in office hours), each opening two
// to eight connections within three seconds, and daily visits. Joined into
// beats, they are still random.
func (cs *calibSet) addPageViews() {
	for rep := range 24 {
		mean := []float64{300, 1800}[rep%2]
		src := cs.next(fmt.Sprintf("page views exp%.0f #%d", mean, rep), false)
		for t := t0 + int64(cs.rng.IntN(3600))*sec; t < t0+7*24*hr; t += int64(cs.rng.ExpFloat64()*mean*1e9) + 1 {
			if h := (t - t0) % (24 * hr) / hr; !workday(int((t-t0)/(24*hr))) || h < 8 || h >= 18 {
				continue
			}
			at := t
			for range 2 + cs.rng.IntN(7) {
				cs.conn(src, at, sizeKinds["noisy"](cs.rng))
				at += int64(cs.rng.IntN(3000)) * int64(time.Millisecond)
			}
		}
	}
	// Daily habits: one to three visits each day of the week at random
	// office-hour times, each of the same two or three connections, as a
	// person reading the news makes them: beats of regular size at
	// irregular times.
	for rep := range 24 {
		per := 2 + rep%2
		src := cs.next(fmt.Sprintf("daily visits of %d connections #%d", per, rep), false)
		var ts []int64
		for d := range int64(7) {
			for range 1 + cs.rng.IntN(3) {
				ts = append(ts, t0+d*24*hr+8*hr+int64(cs.rng.IntN(10*3600))*sec)
			}
		}
		slices.Sort(ts)
		for _, t := range ts {
			for k := range per {
				cs.conn(src, t+int64(k)*int64(time.Second), uint64(320+k*2000))
			}
		}
	}
}

// addLate: implants installed a few hours before the evidence was
// collected, still running at the range's end (periods 30 s to 15 min,
// without jitter or with Cobalt Strike's 20 or 50 %, live the last 3, 6,
// 12 or 24 hours of the week), and the decoys that any leniency towards
// them would let through: short scripted bursts (60 to 120 regular
// connections within one to two hours) at the very end of the range and
// at its very start, a regular job that ran for a few hours mid-range, and
// sparse random pairs in the range's last one or two days.
func (cs *calibSet) addLate() {
	const week = 7 * 24 * hr
	end := t0 + week
	jitters := map[string]func(*rand.Rand) float64{"none": uniformJitter(0), "cs20": csJitter(0.2), "cs50": csJitter(0.5)}
	for _, period := range []int64{30 * sec, mn, 5 * mn, 15 * mn} {
		for _, jn := range sortedNames(jitters) {
			for _, live := range []int64{3, 6, 12, 24} {
				sk := []string{"const", "noisy", "tasking"}[len(cs.samples)%3]
				src := cs.next(fmt.Sprintf("late beacon p=%v j=%s live=%dh size=%s", time.Duration(period), jn, live, sk), true)
				// The first check-in within a period of the implant's start.
				for t := end - live*hr + int64(cs.rng.IntN(int(period/sec)))*sec; t < end; t += int64(float64(period) * jitters[jn](cs.rng)) {
					cs.conn(src, t, sizeKinds[sk](cs.rng))
				}
			}
		}
	}
	burst := func(name string, rep int, first func(span int64) int64) {
		n := 60 + 30*(rep%3)
		span := hr + int64(rep/3%3)*30*mn
		period := span / int64(n)
		src := cs.next(fmt.Sprintf("%s burst %d x %ds #%d", name, n, period/sec, rep), false)
		start := first(span)
		for i := range int64(n) {
			cs.conn(src, start+i*period, 320)
		}
	}
	for rep := range 18 {
		// The last connection within a period of the end, or the first
		// at the start.
		burst("late", rep, func(span int64) int64 { return end - span + int64(cs.rng.IntN(30))*sec })
		burst("early", rep, func(int64) int64 { return t0 + int64(cs.rng.IntN(30))*sec })
	}
	for rep := range 20 {
		period := []int64{30 * sec, mn, 2 * mn, 5 * mn}[rep%4]
		dur := 2*hr + int64(rep/4%4)*hr
		src := cs.next(fmt.Sprintf("mid job %v for %v #%d", time.Duration(period), time.Duration(dur), rep), false)
		start := t0 + int64(1+cs.rng.IntN(5))*24*hr + int64(cs.rng.IntN(12))*hr
		for t := start; t < start+dur; t += int64(float64(period) * uniformJitter(0.02)(cs.rng)) {
			cs.conn(src, t, sizeKinds["noisy"](cs.rng))
		}
	}
	for rep := range 60 {
		n := 10 + rep%30
		days := int64(1 + rep%2)
		src := cs.next(fmt.Sprintf("late sparse random n=%d last %dd #%d", n, days, rep), false)
		var ts []int64
		for range n {
			ts = append(ts, end-days*24*hr+int64(cs.rng.IntN(int(days*24*3600)))*sec)
		}
		slices.Sort(ts)
		for _, t := range ts {
			cs.conn(src, t, sizeKinds["noisy"](cs.rng))
		}
	}
}

// addFastBeats: beacons whose check-ins of two connections about a second
// apart come every 4 or 5 seconds (no jitter or Cobalt Strike's 20 %), for
// one or two days: less than BeatGap apart, all a day's connections run
// into one beat. Decoys: pairs of connections a second apart at random
// times (exponential gaps of 10 seconds, or uniform from 3 to 60, for 8
// or 24 hours), as an application chatting with its server makes them.
func (cs *calibSet) addFastBeats() {
	jitters := map[string]func(*rand.Rand) float64{"none": uniformJitter(0), "cs20": csJitter(0.2)}
	for _, period := range []int64{4 * sec, 5 * sec} {
		for _, jn := range sortedNames(jitters) {
			for _, days := range []int64{1, 2} {
				src := cs.next(fmt.Sprintf("fast beats p=%v j=%s d=%d", time.Duration(period), jn, days), true)
				start := t0 + int64(cs.rng.IntN(int(7-days)+1))*24*hr
				for t := start; t < start+days*24*hr && t < t0+7*24*hr; t += int64(float64(period) * jitters[jn](cs.rng)) {
					cs.conn(src, t, uint64(1200+cs.rng.IntN(60)))
					cs.conn(src, t+int64(700+cs.rng.IntN(500))*int64(time.Millisecond), uint64(300+cs.rng.IntN(60)))
				}
			}
		}
	}
	gaps := map[string]func(*rand.Rand) float64{ // seconds
		"exp10":   func(r *rand.Rand) float64 { return r.ExpFloat64() * 10 },
		"uni3-60": func(r *rand.Rand) float64 { return 3 + 57*r.Float64() },
	}
	for _, gn := range sortedNames(gaps) {
		for rep := range 12 {
			hours := []int64{8, 24}[rep%2]
			src := cs.next(fmt.Sprintf("chatty pairs %s for %dh #%d", gn, hours, rep), false)
			start := t0 + int64(cs.rng.IntN(6*24))*hr
			for t := start; t < start+hours*hr; t += int64(gaps[gn](cs.rng)*1e9) + 1 {
				cs.conn(src, t, 1200)
				cs.conn(src, t+int64(700+cs.rng.IntN(500))*int64(time.Millisecond), 300)
			}
		}
	}
}

// addSessions: long sessions exported every 60 s by an active timeout. The
// beacon detector merges them; unmerged, they would look perfectly regular.
func (cs *calibSet) addSessions() {
	for rep := range 10 {
		src := cs.next(fmt.Sprintf("long session #%d", rep), false)
		proto := flow.ProtoTCP
		if rep%2 == 1 {
			proto = flow.ProtoUDP
		}
		x := gen.Session{Proto: proto, Client: src, Server: ip4(198, 18, 0, 1), ClientPort: 50000, ServerPort: 443,
			Start: t0 + int64(rep)*12*hr, Dur: 8 * hr, Up: 5_000_000, Down: 20_000_000, Split: mn}
		cs.recs = x.Append(cs.recs)
	}
}

func calibration(seed uint64) *calibSet {
	cs := &calibSet{rng: rand.New(rand.NewPCG(seed, 7))}
	cs.addBeacons()
	cs.addRandom()
	cs.addBursts()
	cs.addSparse()
	cs.addSessions()
	cs.addBeats()
	cs.addPageViews()
	cs.addLate()
	cs.addFastBeats()
	slices.SortStableFunc(cs.recs, func(a, b flow.Record) int { return int(max(-1, min(1, a.Start-b.Start))) })
	return cs
}

type calibRow struct {
	calibSample
	found bool
	f     BeaconFinding
}

func calibRun(cs *calibSet, cfg BeaconConfig) []calibRow {
	cfg.From, cfg.To = t0, t0+7*24*hr
	b := NewBeacon(cfg)
	for i := range cs.recs {
		b.Add(&cs.recs[i])
	}
	bySrc := map[netip.Addr]BeaconFinding{}
	for _, f := range b.Candidates() {
		bySrc[f.Source] = f
	}
	rows := make([]calibRow, len(cs.samples))
	for i, s := range cs.samples {
		f, ok := bySrc[s.src]
		rows[i] = calibRow{s, ok, f}
	}
	return rows
}

// TestBeaconCalibration measures the beacon score on the calibration set
// and logs what DefaultBeaconThreshold yields; FLOWCASE_CALIB_CSV=path also
// writes every candidate's parts for analysis.
func TestBeaconCalibration(t *testing.T) {
	if testing.Short() {
		t.Skip("calibration takes a few seconds")
	}
	cs := calibration(42)
	rows := calibRun(cs, BeaconConfig{})
	writeCalibCSV(t, rows)
	var tp, fp, fn, sessions int
	var minBeacon, maxDecoy = 1.0, 0.0
	for _, r := range rows {
		hit := r.found && r.f.Score >= DefaultBeaconThreshold
		switch {
		case r.beacon && hit:
			tp++
		case r.beacon:
			fn++
		case hit:
			fp++
			t.Errorf("decoy %q flagged: score %v parts %+v", r.name, r.f.Score, r.f.Parts)
		}
		if strings.HasPrefix(r.name, "long session") && r.found {
			sessions++
		}
		if r.beacon && r.found {
			minBeacon = min(minBeacon, r.f.Score)
		}
		if !r.beacon && r.found {
			maxDecoy = max(maxDecoy, r.f.Score)
		}
		if r.beacon && strings.Contains(r.name, "office=false") && !strings.Contains(r.name, "d=1 ") && !hit {
			t.Errorf("all-day beacon of three days or more missed: %q score %v", r.name, r.f.Score)
		}
		// Implants still running at the range's end are covered from
		// their first connection (at least three days).
		if strings.HasPrefix(r.name, "late beacon ") && (strings.Contains(r.name, "live=12h") || strings.Contains(r.name, "live=24h")) && !hit {
			t.Errorf("beacon live the range's last half day or more missed: %q score %v", r.name, r.f.Score)
		}
		// Beacons of several connections per check-in are found on their
		// beats, and say so.
		if (strings.HasPrefix(r.name, "beats ") || strings.HasPrefix(r.name, "fast beats ")) && (!hit || r.f.Beats == 0 || r.f.Beats >= r.f.ConnectionCount) {
			t.Errorf("%q: score %v, %d beats of %d connections; want found on its beats", r.name, r.f.Score, r.f.Beats, r.f.ConnectionCount)
		}
	}
	t.Logf("threshold %v: lowest beacon score %.3f, highest decoy score %.3f", DefaultBeaconThreshold, minBeacon, maxDecoy)
	_, rec := prf(t, fmt.Sprintf("beacon calibration (%d planted, %d decoys)", tp+fn, len(rows)-tp-fn), tp, fp, fn)
	// The misses are the weak evidence by design: ten connections in one
	// office day, office hours over at most three days with heavy jitter,
	// and implants live only the last three hours (as short as a scripted
	// burst) or six with heavy jitter.
	if rec < 0.85 {
		t.Errorf("recall %.3f, want at least 0.85", rec)
	}
	if sessions != 0 {
		t.Errorf("%d long sessions became beacon candidates, want 0 (they are one connection each)", sessions)
	}
}

func writeCalibCSV(t *testing.T, rows []calibRow) {
	path := os.Getenv("FLOWCASE_CALIB_CSV")
	if path == "" {
		return
	}
	var b strings.Builder
	b.WriteString("name,beacon,found,score,interval,skew,size,coverage,jitter,count\n")
	for _, r := range rows {
		p := r.f.Parts
		fmt.Fprintf(&b, "%q,%v,%v,%v,%v,%v,%v,%v,%v,%v\n", r.name, r.beacon, r.found, r.f.Score, p.Interval, p.Skew, p.Size, p.Coverage, r.f.JitterRatio, r.f.ConnectionCount)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Without joining records into connections, the long sessions of the
// calibration set (records every 60 s) would be perfect beacons: this is
// what the tracker saves.
func TestLongSessionsUnmergedWouldBeBeacons(t *testing.T) {
	cs := &calibSet{rng: rand.New(rand.NewPCG(1, 2))}
	cs.addSessions()
	b := newBeacon(BeaconConfig{From: t0, To: t0 + 7*24*hr})
	b.tr = newTracker(ConnConfig{})
	b.sync = b.tr.flush
	for i := range cs.recs {
		r := &cs.recs[i]
		if r.SrcAddr.As4()[0] != 10 {
			continue // the client's records only
		}
		c := conn{src: b.tr.addrs.id(r.SrcAddr), dst: b.tr.addrs.id(r.DstAddr), dport: r.DstPort, proto: r.Proto, start: r.Start, lastStart: r.Start,
			end: r.End, fwdBytes: r.Bytes, records: 1}
		b.addConn(&c)
	}
	b.tr.first, b.tr.clock = t0, t0+7*24*hr
	got := b.Candidates()
	if len(got) != 10 {
		t.Fatalf("unmerged sessions: %d candidates, want 10", len(got))
	}
	t.Logf("unmerged long sessions would score %.3f to %.3f (coverage %.3f)", got[len(got)-1].Score, got[0].Score, got[0].Coverage)
	if got[len(got)-1].Score < DefaultBeaconThreshold {
		t.Errorf("unmerged session scores %v, want above the threshold (the decoy must be hard)", got[len(got)-1].Score)
	}
}

// calibClass is the class a calibration sample's name belongs to, for the
// table of TestBeaconCalibrationClasses.
func calibClass(name string) string {
	field := func(key string) string {
		for _, f := range strings.Fields(name) {
			if v, ok := strings.CutPrefix(f, key+"="); ok {
				return v
			}
		}
		return ""
	}
	switch {
	case strings.HasPrefix(name, "beacon "):
		switch {
		case field("office") == "true":
			return "beacon office hours, 3-7 days"
		case field("d") == "1":
			return "beacon all day, 1 day"
		}
		return "beacon all day, 3-7 days"
	case strings.HasPrefix(name, "late beacon "):
		return "late beacon, live " + field("live")
	case strings.HasPrefix(name, "beats "):
		return "beats"
	case strings.HasPrefix(name, "fast beats "):
		return "fast beats"
	case strings.HasPrefix(name, "chatty pairs"):
		return "decoy chatty pairs"
	case strings.HasPrefix(name, "sparse beacon 1h"):
		return "sparse beacon 1h, one office day"
	case strings.HasPrefix(name, "sparse beacon 4h"):
		return "sparse beacon 4h, a week"
	case strings.HasPrefix(name, "random "):
		return "decoy random intervals"
	case strings.HasPrefix(name, "late sparse random"):
		return "decoy sparse random, last days"
	case strings.HasPrefix(name, "sparse random"):
		return "decoy sparse random"
	case strings.HasPrefix(name, "late burst"):
		return "decoy burst at the end"
	case strings.HasPrefix(name, "early burst"):
		return "decoy burst at the start"
	case strings.HasPrefix(name, "burst"):
		return "decoy burst"
	case strings.HasPrefix(name, "mid job"):
		return "decoy job of hours mid-range"
	case strings.HasPrefix(name, "long session"):
		return "decoy long session"
	case strings.HasPrefix(name, "page views"):
		return "decoy page views"
	case strings.HasPrefix(name, "daily visits"):
		return "decoy daily visits"
	}
	return name
}

// TestBeaconCalibrationClasses (FLOWCASE_CALIB_CLASSES=1) logs, over the
// three calibration sets (seeds 42, 7, 99), each class's count, how many
// score at or above DefaultBeaconThreshold and its lowest and highest
// score (0 for a sample that is no candidate), and the overall precision
// and recall: the figures of doc.go.
func TestBeaconCalibrationClasses(t *testing.T) {
	if os.Getenv("FLOWCASE_CALIB_CLASSES") == "" {
		t.Skip("set FLOWCASE_CALIB_CLASSES=1 to measure every calibration class")
	}
	type stats struct {
		n, hit int
		lo, hi float64
		beacon bool
		loName string
		hiName string
	}
	classes := map[string]*stats{}
	var tp, fp, fn, decoys int
	for _, seed := range []uint64{42, 7, 99} {
		for _, r := range calibRun(calibration(seed), BeaconConfig{}) {
			c := calibClass(r.name)
			st := classes[c]
			if st == nil {
				st = &stats{lo: 2, hi: -1, beacon: r.beacon}
				classes[c] = st
			}
			score := 0.0
			if r.found {
				score = r.f.Score
			}
			st.n++
			hit := score >= DefaultBeaconThreshold
			if hit {
				st.hit++
			}
			if score < st.lo {
				st.lo, st.loName = score, r.name
			}
			if score > st.hi {
				st.hi, st.hiName = score, r.name
			}
			switch {
			case r.beacon && hit:
				tp++
			case r.beacon:
				fn++
			case hit:
				fp++
			}
			if !r.beacon {
				decoys++
			}
		}
	}
	for _, c := range sortedNames(classes) {
		st := classes[c]
		t.Logf("%-36s %4d/%-4d lowest %.4f highest %.4f (%s)", c, st.hit, st.n, st.lo, st.hi, map[bool]string{true: st.loName, false: st.hiName}[st.beacon])
	}
	prf(t, fmt.Sprintf("three calibration sets (%d planted, %d decoys)", tp+fn, decoys), tp, fp, fn)
}
