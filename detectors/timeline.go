package detectors

import (
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// TimelineConfig configures Timeline. The zero value means hourly buckets.
type TimelineConfig struct {
	// Every is the bucket width (--every, default 1h). Buckets are aligned
	// to multiples of it since the Unix epoch (UTC), and a record counts in
	// the bucket of its start.
	Every time.Duration
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
	return &Timeline{every: int64(cfg.Every), from: cfg.From, to: cfg.To}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Add counts one record. Records in start order cost one comparison to
// find their bucket; others are placed by binary search.
func (t *Timeline) Add(r *flow.Record) {
	idx := floorDiv(r.Start, t.every)
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

// Buckets returns every interval of the timeline in order, empty ones
// included.
func (t *Timeline) Buckets() []TimelineBucket {
	lo, hi, ok := t.bounds()
	out := []TimelineBucket{}
	if !ok {
		return out
	}
	j := 0
	for idx := lo; idx <= hi; idx++ {
		b := TimelineBucket{StartNS: idx * t.every, Start: FormatTime(idx * t.every)}
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
		flo, fhi := floorDiv(t.from, t.every), floorDiv(t.to-1, t.every)
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
