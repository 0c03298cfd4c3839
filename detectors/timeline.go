package detectors

import (
	"fmt"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// TimelineConfig configures Timeline. The zero value means hourly buckets.
type TimelineConfig struct {
	// Every is the bucket width (--every, default 1h). A record counts in
	// the bucket of its start.
	Every time.Duration
	// Location is the zone whose clock the buckets follow (--tz; nil is
	// UTC). Widths of a day or more start at its midnights (weeks on
	// Mondays), and widths above an hour that divide a day on its hours
	// (6h: 00:00, 06:00, ...), also across a daylight-saving change, so such
	// a bucket can hold 23 or 25 hours. Widths that divide an hour are
	// exact spans aligned to the zone's offset at From (+05:30: on the
	// half hour of UTC), as are widths that divide neither (90m: multiples
	// of it since the epoch, in that offset).
	Location *time.Location
	// From and To (unix ns, optional) make the timeline cover [From, To)
	// with empty buckets too; it always covers the first record's bucket to
	// the last one's.
	From, To int64
}

// DefaultEvery is the default timeline bucket width.
const DefaultEvery = time.Hour

// TimelineBucket is one interval of a timeline.
type TimelineBucket struct {
	StartNS int64  `json:"start_ns"`
	Start   string `json:"start"`
	Counts
}

// Timeline counts flows, bytes and packets per interval. Memory is one
// counter per non-empty interval.
type Timeline struct {
	every   int64
	shift   int64 // fixed spans: bucket idx starts at idx*every - shift
	from    int64
	to      int64
	buckets []tlBucket // ascending by index

	// Calendar buckets (the zone's days, or hours dividing a day): loc is
	// set, and a bucket's index counts days since 1970-01-01 on the zone's
	// calendar (less Monday's 4 for weeks) times perDay, plus the bucket
	// within the day. Records come in start order, so the last bucket's
	// span [curLo, curHi) answers nearly every lookup without converting
	// the time.
	loc          *time.Location
	days         int64 // widths of whole days: days a bucket; else 0
	perDay       int64 // widths dividing a day: buckets a day; else 0
	curLo, curHi int64
	curIdx       int64
}

type tlBucket struct {
	idx int64
	c   Counts
}

// NewTimeline returns a timeline.
func NewTimeline(cfg TimelineConfig) *Timeline {
	if cfg.Every <= 0 {
		cfg.Every = DefaultEvery
	}
	t := &Timeline{every: int64(cfg.Every), from: cfg.From, to: cfg.To}
	const day = int64(24 * time.Hour)
	switch {
	case t.every%day == 0:
		t.days = t.every / day
	case t.every > int64(time.Hour) && day%t.every == 0:
		t.perDay = day / t.every
	default:
		if cfg.Location != nil {
			_, off := time.Unix(0, cfg.From).In(cfg.Location).Zone()
			t.shift = int64(off) * int64(time.Second)
		}
		return t
	}
	t.loc = cfg.Location
	if t.loc == nil {
		t.loc = time.UTC
	}
	t.curLo, t.curHi = 1, 0 // empty
	return t
}

// index is the bucket of time ns; startOf is a bucket's first instant.
func (t *Timeline) index(ns int64) int64 {
	if t.loc == nil {
		return floorDiv(ns+t.shift, t.every)
	}
	if ns >= t.curLo && ns < t.curHi {
		return t.curIdx
	}
	lt := time.Unix(0, ns).In(t.loc)
	y, m, d := lt.Date()
	dn := civilDays(y, m, d)
	var idx int64
	if t.days > 0 {
		if t.days%7 == 0 {
			dn -= 4 // weeks start on Mondays (ISO 8601): 1970-01-05
		}
		idx = floorDiv(dn, t.days)
	} else {
		wall := int64(lt.Hour())*int64(time.Hour) + int64(lt.Minute())*int64(time.Minute) +
			int64(lt.Second())*int64(time.Second) + int64(lt.Nanosecond())
		idx = dn*t.perDay + wall/t.every
	}
	t.curIdx, t.curLo, t.curHi = idx, t.startOf(idx), t.startOf(idx+1)
	if ns < t.curLo || ns >= t.curHi { // a wall clock that repeats or jumps: no cache
		t.curLo, t.curHi = 1, 0
	}
	return idx
}

func (t *Timeline) startOf(idx int64) int64 {
	if t.loc == nil {
		return idx*t.every - t.shift
	}
	if t.days > 0 {
		dn := idx * t.days
		if t.days%7 == 0 {
			dn += 4
		}
		return t.wallStart(dn, 0)
	}
	dn := floorDiv(idx, t.perDay)
	return t.wallStart(dn, (idx-dn*t.perDay)*t.every)
}

// wallStart is the first instant whose clock in the zone reads wall (ns
// after midnight) on day dn, or later: where a change skips that time
// (02:00 when clocks go forward), the change itself; where a change back
// repeats it, its first reading. time.Date is free to pick either in
// both cases.
func (t *Timeline) wallStart(dn, wall int64) int64 {
	want := dn*int64(24*time.Hour) + wall
	x := time.Date(1970, 1, 1+int(dn), 0, 0, 0, int(wall), t.loc)
	reads := func(u time.Time) int64 { _, off := u.Zone(); return u.UnixNano() + int64(off)*int64(time.Second) }
	start, end := x.ZoneBounds()
	switch got := reads(x); {
	case got < want && !end.IsZero():
		return end.UnixNano()
	case got > want && !start.IsZero():
		return start.UnixNano()
	case got == want && !start.IsZero():
		// The same reading in the zone before this one, if it lies there.
		_, off := start.Add(-1).Zone()
		if e := want - int64(off)*int64(time.Second); e < start.UnixNano() {
			return e
		}
	}
	return x.UnixNano()
}

// civilDays is the number of days from 1970-01-01 to y-m-d (negative
// before it), on the proleptic Gregorian calendar.
func civilDays(y int, m time.Month, d int) int64 {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// SparseNote says what a Sparse timeline left out, or "" when it is not.
func (t *Timeline) SparseNote() string {
	if !t.Sparse() {
		return ""
	}
	lo, hi, _ := t.bounds()
	return fmt.Sprintf("the timeline spans %d intervals of %s (%s to %s): only the %d with flows are listed; a wider interval lists them all",
		hi-lo+1, time.Duration(t.every), FormatTime(t.startOf(lo)), FormatTime(t.startOf(hi)), len(t.buckets))
}

// Add counts one record. Records in start order cost one comparison to
// find their bucket; others are placed by binary search.
func (t *Timeline) Add(r *flow.Record) {
	idx := t.index(r.Start)
	n := len(t.buckets)
	if n > 0 && t.buckets[n-1].idx == idx {
		t.buckets[n-1].c.add(r)
		return
	}
	if n == 0 || t.buckets[n-1].idx < idx {
		t.buckets = append(t.buckets, tlBucket{idx: idx})
		t.buckets[n].c.add(r)
		return
	}
	t.insert(idx).add(r)
}

func (t *Timeline) insert(idx int64) *Counts {
	lo, hi := 0, len(t.buckets)
	for lo < hi {
		m := (lo + hi) / 2
		if t.buckets[m].idx < idx {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(t.buckets) || t.buckets[lo].idx != idx {
		t.buckets = append(t.buckets, tlBucket{})
		copy(t.buckets[lo+1:], t.buckets[lo:])
		t.buckets[lo] = tlBucket{idx: idx}
	}
	return &t.buckets[lo].c
}

// MaxTimelineBuckets is the most intervals a timeline lists with the empty
// ones: 20,000 hours are 2.3 years. A case whose flows span more (a few
// flows of an exporter whose clock was never set, dated 1970, beside this
// year's) lists only the intervals with flows, instead of one per hour of
// the decades between them.
const MaxTimelineBuckets = 20_000

// Intervals returns how many intervals the timeline spans, empty ones
// included.
func (t *Timeline) Intervals() int64 {
	lo, hi, ok := t.bounds()
	if !ok {
		return 0
	}
	return hi - lo + 1
}

// Sparse reports whether Buckets leaves the empty intervals out: the
// timeline spans more than MaxTimelineBuckets.
func (t *Timeline) Sparse() bool { return t.Intervals() > MaxTimelineBuckets }

// Buckets returns every interval of the timeline in order, empty ones
// included, unless it is Sparse: then only those with flows.
func (t *Timeline) Buckets() []TimelineBucket {
	lo, hi, ok := t.bounds()
	out := []TimelineBucket{}
	if !ok {
		return out
	}
	if t.Sparse() {
		for _, b := range t.buckets {
			out = append(out, TimelineBucket{StartNS: t.startOf(b.idx), Start: FormatTime(t.startOf(b.idx)), Counts: b.c})
		}
		return out
	}
	j := 0
	for idx := lo; idx <= hi; idx++ {
		b := TimelineBucket{StartNS: t.startOf(idx), Start: FormatTime(t.startOf(idx))}
		for j < len(t.buckets) && t.buckets[j].idx < idx {
			j++
		}
		if j < len(t.buckets) && t.buckets[j].idx == idx {
			b.Counts = t.buckets[j].c
		}
		out = append(out, b)
	}
	return out
}

// bounds covers [From, To) when given, and every non-empty bucket (a range
// that selects overlapping flows holds some that start before From).
func (t *Timeline) bounds() (lo, hi int64, ok bool) {
	if n := len(t.buckets); n > 0 {
		lo, hi, ok = t.buckets[0].idx, t.buckets[n-1].idx, true
	}
	if t.to > t.from && t.from != 0 {
		flo, fhi := t.index(t.from), t.index(t.to-1)
		if !ok {
			return flo, fhi, true
		}
		lo, hi = min(lo, flo), max(hi, fhi)
	}
	return lo, hi, ok
}

// Merge adds the buckets of o, a Timeline with the same configuration (one
// per goroutine of a parallel scan), to t.
func (t *Timeline) Merge(o *Timeline) {
	for i := range o.buckets {
		t.insert(o.buckets[i].idx).merge(&o.buckets[i].c)
	}
}
