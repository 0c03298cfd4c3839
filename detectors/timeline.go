package detectors

import (
	"fmt"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// TimelineConfig configures Timeline. The zero value means hourly buckets.
type TimelineConfig struct {
	// Every is the bucket width (--every, default 1h). Buckets are aligned
	// to multiples of it since the Unix epoch, in UTC shifted by Offset
	// (weeks since its first Monday), and a record counts in the bucket of
	// its start.
	Every time.Duration
	// Offset is a zone's offset east of UTC (--tz): daily buckets then
	// start at its midnight, hourly ones on its hour (+05:30).
	Offset time.Duration
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
	shift   int64 // Offset: bucket idx starts at idx*every - shift
	from    int64
	to      int64
	buckets []tlBucket // ascending by index
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
	t := &Timeline{every: int64(cfg.Every), shift: int64(cfg.Offset), from: cfg.From, to: cfg.To}
	if week := int64(7 * 24 * time.Hour); t.every%week == 0 {
		// Weeks start on Mondays (ISO 8601), not on the epoch's Thursday:
		// 1970-01-05 was the first Monday.
		t.shift -= 4 * 24 * int64(time.Hour)
	}
	return t
}

// index is the bucket of time ns; startOf is a bucket's first instant.
func (t *Timeline) index(ns int64) int64    { return floorDiv(ns+t.shift, t.every) }
func (t *Timeline) startOf(idx int64) int64 { return idx*t.every - t.shift }

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
