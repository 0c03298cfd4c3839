package query

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// ErrStoreEmpty is returned by ParseTime for a time relative to the store's
// last flow ("end", "end-6h") when the store holds no flow.
var ErrStoreEmpty = errors.New("store is empty")

// Range is a half-open time range [From, To) in unix nanoseconds.
//
// By default a flow is in the range when it overlaps it; with Starting, only
// when it starts inside it.
type Range struct {
	From, To int64
	Starting bool
}

// Contains reports whether a flow that started at start and ended at end
// (unix nanoseconds, end >= start) is in the range. End is the time of the
// flow's last packet, so a flow ending exactly at From still overlaps.
func (r Range) Contains(start, end int64) bool {
	if r.Starting {
		return r.From <= start && start < r.To
	}
	return start < r.To && end >= r.From
}

// ParseTime parses a time expression of the --from/--to flags into unix
// nanoseconds. It accepts:
//
//	2026-03-02T10:00:05.5+01:00  RFC 3339, fractional seconds, any zone
//	2026-03-02                   midnight UTC
//	2026-03-02T10:00[:05[.5]]    UTC (a space may stand for the T)
//	20260302, 20260302T100005Z   ISO 8601's basic form (UTC without a zone)
//	1772445600[.25]              unix seconds
//	now, now-2d, now+1h, -6h     relative to now (the wall clock)
//	end, end-6h                  relative to storeEnd, the store's last flow
//
// Durations are those of ParseDuration. Keywords are case-insensitive.
func ParseTime(s string, now time.Time, storeEnd int64) (int64, error) {
	in := strings.TrimSpace(s)
	base, rest, relative, err := timeBase(in, now, storeEnd)
	if err != nil {
		return 0, fmt.Errorf("cannot parse time %q: %w", s, err)
	}
	if !relative {
		if ns, ok, err := parseAbsolute(in); ok || err != nil {
			if err != nil {
				return 0, fmt.Errorf("cannot parse time %q: %w", s, err)
			}
			return ns, nil
		}
		return 0, fmt.Errorf("cannot parse time %q: expected RFC 3339, a date, unix seconds, or now/end±duration", s)
	}
	ns, err := addOffset(base, rest)
	if err != nil {
		return 0, fmt.Errorf("cannot parse time %q: %w", s, err)
	}
	return ns, nil
}

// timeBase recognises the relative forms: it returns the base time and the
// remaining "±duration" text (possibly empty) when s starts with now, end or
// a sign.
func timeBase(s string, now time.Time, storeEnd int64) (base int64, rest string, relative bool, err error) {
	switch {
	case hasPrefixFold(s, "now"):
		base, rest = now.UnixNano(), strings.TrimSpace(s[3:])
	case hasPrefixFold(s, "end"):
		base, rest = storeEnd, strings.TrimSpace(s[3:])
	case s != "" && (s[0] == '-' || s[0] == '+'):
		return now.UnixNano(), s, true, nil
	default:
		return 0, "", false, nil
	}
	if rest != "" && rest[0] != '-' && rest[0] != '+' {
		return 0, "", true, errors.New("expected now/end±duration, like now-2d or end-6h")
	}
	if hasPrefixFold(s, "end") && storeEnd == 0 {
		return 0, "", true, ErrStoreEmpty
	}
	return base, rest, true, nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// addOffset applies rest ("", "-6h", "+ 1d") to base, checking for overflow.
func addOffset(base int64, rest string) (int64, error) {
	if rest == "" {
		return base, nil
	}
	neg := rest[0] == '-'
	text := strings.TrimSpace(rest[1:])
	d, err := parseUnsignedDuration(text)
	if err != nil {
		return 0, fmt.Errorf("cannot parse duration %q: %w", text, err)
	}
	if d > math.MaxInt64 {
		return 0, errors.New("time out of range")
	}
	off := int64(d)
	if neg {
		if base < math.MinInt64+off {
			return 0, errors.New("time out of range")
		}
		return base - off, nil
	}
	if base > math.MaxInt64-off {
		return 0, errors.New("time out of range")
	}
	return base + off, nil
}

// absoluteLayouts are tried in order on the upper-cased input, after a space
// between date and time became a T. Parsing accepts fractional seconds after
// the seconds field even where a layout does not show them. Layouts without
// a zone mean UTC.
var absoluteLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05Z0700", // ISO 8601's basic offset, as date +%FT%T%z writes it
	"2006-01-02T15:04Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02",
	"2006/01/02T15:04:05", // year first with slashes (never day or month first: ambiguous)
	"2006/01/02T15:04",
	"2006/01/02",
}

// basicLayouts are ISO 8601's basic forms (no separators).
var basicLayouts = []string{"20060102", "20060102T150405Z0700", "20060102T150405", "20060102T1504"}

// ParseZone parses a --tz or --input-tz zone: an IANA name (Europe/Berlin,
// UTC, Local) or a fixed offset from UTC (+01:00, -0530, +05, UTC+1,
// GMT-03:00).
func ParseZone(s string) (*time.Location, error) {
	if loc, err := time.LoadLocation(s); err == nil {
		return loc, nil
	}
	off := s
	for _, p := range []string{"UTC", "GMT"} {
		if len(off) > len(p) && strings.EqualFold(off[:len(p)], p) {
			off = off[len(p):]
		}
	}
	if len(off) >= 2 && (off[0] == '+' || off[0] == '-') {
		hh, mm, _ := strings.Cut(strings.ReplaceAll(off[1:], ":", "_"), "_")
		if mm == "" && len(hh) == 4 {
			hh, mm = hh[:2], hh[2:]
		}
		h, herr := strconv.Atoi(hh)
		m := 0
		var merr error
		if mm != "" {
			m, merr = strconv.Atoi(mm)
		}
		if herr == nil && merr == nil && allDigits(hh) && (mm == "" || allDigits(mm)) && len(hh) <= 2 && h <= 14 && m < 60 {
			sec := h*3600 + m*60
			if off[0] == '-' {
				sec = -sec
			}
			return time.FixedZone(s, sec), nil
		}
	}
	return nil, fmt.Errorf("unknown time zone %q: want an IANA name such as Europe/Berlin or an offset such as +01:00", s)
}

// parseAbsolute parses the absolute forms. ok is false when s is none of
// them; err is set when s is one of them but out of range.
func parseAbsolute(s string) (ns int64, ok bool, err error) {
	// Eight digits that make a date are one (20260302, as file names and
	// nfdump's -t write them), not 1970-08-23 in unix seconds.
	for _, layout := range basicLayouts {
		if t, perr := time.Parse(layout, strings.ToUpper(s)); perr == nil {
			ns, err := unixNano(t)
			return ns, err == nil, err
		}
	}
	if len(s) == 8 && allDigits(s) && s[:2] >= "19" && s[:2] <= "20" {
		// A year of 1900-2099 and a month and day that make no date
		// (20260230): a mistake, not unix seconds of 1970.
		return 0, false, fmt.Errorf("%s is no date (YYYYMMDD)", s)
	}
	if ns, ok, err := parseUnixSeconds(s); ok || err != nil {
		return ns, ok, err
	}
	u := strings.ToUpper(s)
	if len(u) > 10 && u[10] == ' ' {
		u = u[:10] + "T" + u[11:]
	}
	for _, layout := range absoluteLayouts {
		t, perr := time.Parse(layout, u)
		if perr != nil {
			continue
		}
		ns, err := unixNano(t)
		return ns, err == nil, err
	}
	return 0, false, nil
}

// maxUnixSec is the last whole second whose nanoseconds fit in an int64.
const maxUnixSec = math.MaxInt64/int64(time.Second) - 1

// unixNano is t.UnixNano with a range check (UnixNano is undefined outside
// the years 1678-2262).
func unixNano(t time.Time) (int64, error) {
	sec := t.Unix()
	if sec > maxUnixSec || sec < -maxUnixSec {
		return 0, errors.New("time out of range (years 1678 to 2262)")
	}
	return t.UnixNano(), nil
}

// parseUnixSeconds parses DIGITS[.DIGITS]; digits past nanoseconds are
// dropped. A whole number of 12 digits or more is no date in seconds (the
// year 5138 and later): it is milliseconds, microseconds or nanoseconds by
// its magnitude, as the JSON evidence is read (flow.EpochShift).
func parseUnixSeconds(s string) (ns int64, ok bool, err error) {
	intPart, frac, hasDot := strings.Cut(s, ".")
	if !allDigits(intPart) || (hasDot && !allDigits(frac)) {
		return 0, false, nil
	}
	if sig := strings.TrimLeft(intPart, "0"); !hasDot && flow.EpochShift(len(sig)) < 9 {
		n, perr := strconv.ParseInt(sig, 10, 64)
		ns, ok := flow.EpochNanos(n)
		if perr != nil || !ok {
			return 0, false, errors.New("unix time out of range")
		}
		return ns, true, nil
	}
	sec, perr := strconv.ParseInt(intPart, 10, 64)
	if perr != nil || sec > maxUnixSec {
		return 0, false, errors.New("unix seconds out of range")
	}
	if len(frac) > 9 {
		frac = frac[:9]
	}
	var sub int64
	if frac != "" {
		sub, _ = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
	}
	return sec*1e9 + sub, true, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// durationUnits are the units of ParseDuration: Go's plus d and w.
var durationUnits = map[string]uint64{
	"ns": uint64(time.Nanosecond),
	"us": uint64(time.Microsecond),
	"µs": uint64(time.Microsecond), // U+00B5 micro sign
	"μs": uint64(time.Microsecond), // U+03BC Greek small letter mu
	"ms": uint64(time.Millisecond),
	"s":  uint64(time.Second),
	"m":  uint64(time.Minute),
	"h":  uint64(time.Hour),
	"d":  uint64(24 * time.Hour),
	"w":  uint64(7 * 24 * time.Hour),
}

// ParseDuration parses a duration like time.ParseDuration ("1h30m", "1.5h",
// "-10s") and also accepts the units d (24h) and w (7d), combinable: "1d12h",
// "2w". A duration that time.ParseDuration accepts gives the same value.
func ParseDuration(s string) (time.Duration, error) {
	text, neg := s, false
	if text != "" && (text[0] == '-' || text[0] == '+') {
		neg = text[0] == '-'
		text = text[1:]
	}
	d, err := parseUnsignedDuration(text)
	if err != nil {
		return 0, fmt.Errorf("cannot parse duration %q: %w", s, err)
	}
	if neg {
		return -time.Duration(d), nil // d == 1<<63 wraps to math.MinInt64, as wanted
	}
	if d > math.MaxInt64 {
		return 0, fmt.Errorf("cannot parse duration %q: out of range", s)
	}
	return time.Duration(d), nil
}

var errDurationRange = errors.New("out of range")

// parseUnsignedDuration parses a sequence of NUMBER UNIT pairs, returning at
// most 1<<63 nanoseconds. It follows time.ParseDuration's arithmetic so that
// both agree wherever both accept the input.
func parseUnsignedDuration(s string) (uint64, error) {
	if s == "0" {
		return 0, nil
	}
	if s == "" {
		return 0, errors.New("empty duration")
	}
	var total uint64
	for s != "" {
		v, rest, err := durationTerm(s)
		if err != nil {
			return 0, err
		}
		total += v
		if total > 1<<63 {
			return 0, errDurationRange
		}
		s = rest
	}
	return total, nil
}

// durationTerm parses one NUMBER UNIT from the front of s.
func durationTerm(s string) (v uint64, rest string, err error) {
	if s[0] != '.' && (s[0] < '0' || s[0] > '9') {
		return 0, "", fmt.Errorf("expected a number at %q", s)
	}
	v, s, pre, err := leadingInt(s)
	if err != nil {
		return 0, "", err
	}
	var f uint64
	scale, post := 1.0, false
	if s != "" && s[0] == '.' {
		s = s[1:]
		n := len(s)
		f, scale, s = leadingFraction(s)
		post = len(s) != n
	}
	if !pre && !post {
		return 0, "", errors.New("expected a number before '.'")
	}
	i := 0
	for i < len(s) && s[i] != '.' && (s[i] < '0' || s[i] > '9') {
		i++
	}
	if i == 0 {
		return 0, "", errors.New("missing unit (want ns, us, ms, s, m, h, d or w)")
	}
	u := s[:i]
	unit, ok := durationUnits[u]
	if !ok {
		return 0, "", fmt.Errorf("unknown unit %q (want ns, us, ms, s, m, h, d or w)", u)
	}
	if v > 1<<63/unit {
		return 0, "", errDurationRange
	}
	v *= unit
	if f > 0 {
		v += uint64(float64(f) * (float64(unit) / scale))
		if v > 1<<63 {
			return 0, "", errDurationRange
		}
	}
	return v, s[i:], nil
}

// leadingInt consumes leading decimal digits; ok says whether there were any.
func leadingInt(s string) (v uint64, rest string, ok bool, err error) {
	i := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if v > 1<<63/10 {
			return 0, "", false, errDurationRange
		}
		v = v*10 + uint64(s[i]-'0')
		if v > 1<<63 {
			return 0, "", false, errDurationRange
		}
	}
	return v, s[i:], i > 0, nil
}

// leadingFraction consumes the digits of a fraction; digits beyond what fits
// are skipped, as time.ParseDuration does.
func leadingFraction(s string) (f uint64, scale float64, rest string) {
	i := 0
	scale = 1
	overflow := false
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if overflow {
			continue
		}
		if f > (1<<63-1)/10 {
			overflow = true
			continue
		}
		y := f*10 + uint64(s[i]-'0')
		if y > 1<<63 {
			overflow = true
			continue
		}
		f = y
		scale *= 10
	}
	return f, scale, s[i:]
}
