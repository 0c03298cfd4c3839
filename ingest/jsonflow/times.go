package jsonflow

import (
	"math"
	"strconv"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// The time fields in order of priority.
var (
	startSlots = [...]int{slotStart, slotFirstSeen, slotTimestamp, slotTS}
	endSlots   = [...]int{slotEnd, slotLastSeen}
	// durationSlots hold a duration in one unit or another.
	durationSlots = [...]int{slotDuration, slotDurationNs, slotDurationUs, slotDurationMs}
)

// durationUnit is the unit, in nanoseconds, of the duration slots that hold
// whole numbers (duration itself is seconds, with a fraction).
var durationUnit = [numSlots]int64{slotDurationNs: 1, slotDurationUs: 1e3, slotDurationMs: 1e6}

// times sets rec.Start and rec.End from the time slots, or rejects.
func (d *decoder) times(rec *flow.Record) {
	// With both a start and an end, a duration says nothing more: it is
	// not read (nfdump writes a negative one as its unsigned wrap,
	// 18446744073709552 seconds).
	startAt, endAt, durAt := d.firstSlot(startSlots[:]), d.firstSlot(endSlots[:]), d.firstSlot(durationSlots[:])
	both := startAt >= 0 && endAt >= 0
	var dur int64
	if !both {
		var ok bool
		if dur, ok = d.duration(durAt); !ok {
			return
		}
	}
	var start, end int64
	var ok bool
	if startAt < 0 && endAt >= 0 && durAt >= 0 {
		// Only the end and a duration (FortiGate's eventtime, when the
		// session was logged): the start is that less the duration.
		if end, ok = d.timeSlot(endAt); !ok {
			return
		}
		if start = end - dur; start < minTime*1e9 {
			d.reason, d.detail = ReasonTooOld, "end less duration "+fmtNs(start)
			return
		}
	} else {
		if start, ok = d.start(); !ok {
			return
		}
		if end, ok = d.end(start, dur); !ok {
			return
		}
	}
	if end < start && both && d.wrappedDuration(start-end) {
		// nfdump 1.7 writes the times of softflowd's IPFIX records the
		// wrong way round, and their duration, te - ts in unsigned
		// milliseconds, as about 2^64/1000 seconds less the span: the
		// span is right, its ends swapped.
		start, end = end, start
		d.swapped = true
	}
	switch {
	case end < start:
		d.reason, d.detail = ReasonEndBeforeStart, detailf("end %s is before start %s", fmtNs(end), fmtNs(start))
	case end > d.latest:
		d.reason, d.detail = ReasonFuture, "end "+fmtNs(end)
	}
	rec.Start, rec.End = start, end
}

// wrappedDuration reports whether the duration (seconds) is the unsigned
// wrap of -span: 2^64 milliseconds, in seconds, less span, within the
// float's precision there (a few seconds), for a span of at most a day.
func (d *decoder) wrappedDuration(span int64) bool {
	v := d.slots[slotDuration]
	if v.kind == kindAbsent || span > int64(24*time.Hour) {
		return false
	}
	b, ok := d.number(v)
	if !ok {
		return false
	}
	secs, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return false
	}
	const wrap = 18446744073709551.616 // 2^64 ms in seconds
	return math.Abs(wrap-secs-float64(span)/1e9) <= 8
}

// firstSlot returns the first present slot of slots, or -1.
func (d *decoder) firstSlot(slots []int) int {
	for _, i := range slots {
		if d.slots[i].kind != kindAbsent {
			return i
		}
	}
	return -1
}

// duration reads the duration in slot, the first present of durationSlots
// (-1: none, 0): duration (seconds), else the Elastic Common Schema's
// event.duration (nanoseconds), else CICFlowMeter's Flow Duration
// (microseconds), else nProbe's FLOW_DURATION_MILLISECONDS.
func (d *decoder) duration(slot int) (int64, bool) {
	if slot < 0 {
		return 0, true
	}
	v, name := d.slots[slot], slotNames[slot]
	b, ok := d.number(v)
	var ns int64
	var st numStatus
	if unit := durationUnit[slot]; unit != 0 {
		var n uint64
		n, st = parseUint(b, uint64(math.MaxInt64/unit))
		ns = int64(n) * unit
	} else {
		ns, st = parseDuration(b)
	}
	switch {
	case !ok || st == numBad:
		d.reject(ReasonBadNumber, name, v)
	case st == numRange:
		d.reject(ReasonNumberRange, name, v)
	}
	return ns, d.reason == ""
}

func (d *decoder) start() (int64, bool) {
	if i := d.firstSlot(startSlots[:]); i >= 0 {
		return d.timeSlot(i)
	}
	switch {
	case d.assume == 0:
		d.reason, d.detail = ReasonNoTime, "none of start, first_seen, timestamp, ts"
	case d.assume < minTime*1e9:
		d.reason, d.detail = ReasonTooOld, "assumed time "+fmtNs(d.assume)
	case d.assume > d.latest:
		d.reason, d.detail = ReasonFuture, "assumed time "+fmtNs(d.assume)
	}
	d.assumed = true
	return d.assume, d.reason == ""
}

// end reads end or last_seen, else adds the duration to start.
func (d *decoder) end(start, dur int64) (int64, bool) {
	if i := d.firstSlot(endSlots[:]); i >= 0 {
		return d.timeSlot(i)
	}
	if dur > 0 && start > math.MaxInt64-dur {
		d.reason, d.detail = ReasonFuture, "start plus duration overflows"
		return 0, false
	}
	return start + dur, true // start >= 1990 > 0, so a negative dur cannot overflow
}

func (d *decoder) timeSlot(i int) (int64, bool) {
	v := d.slots[i]
	if v.kind != kindString && v.kind != kindNumber {
		d.reject(ReasonBadTime, slotNames[i], v)
		return 0, false
	}
	ns, reason := parseTime(d.str(v), v.kind == kindString, d.tz, d.latest)
	if reason != "" {
		d.reject(reason, slotNames[i], v)
		return 0, false
	}
	return ns, true
}

// fmtNs writes unix nanoseconds as RFC 3339 UTC, for details.
func fmtNs(ns int64) string {
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}
