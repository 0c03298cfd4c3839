package query

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var (
	testNow      = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	testStoreEnd = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano()
)

func ns(t time.Time) int64 { return t.UnixNano() }

func TestParseTime(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, n int) int64 {
		return ns(time.Date(y, mo, d, h, mi, s, n, time.UTC))
	}
	tests := []struct {
		in   string
		want int64
	}{
		// RFC 3339, any zone, fractional seconds.
		{"2026-03-02T10:00:05Z", utc(2026, 3, 2, 10, 0, 5, 0)},
		{"2026-03-02T10:00:05.123456789Z", utc(2026, 3, 2, 10, 0, 5, 123456789)},
		{"2026-03-02T10:00:05.5+01:00", utc(2026, 3, 2, 9, 0, 5, 5e8)},
		{"2026-03-02T10:00:05-05:30", utc(2026, 3, 2, 15, 30, 5, 0)},
		{"2026-03-02t10:00:05z", utc(2026, 3, 2, 10, 0, 5, 0)},
		{"2026-03-02 10:00:05Z", utc(2026, 3, 2, 10, 0, 5, 0)},
		{"2026-03-02T10:00+02:00", utc(2026, 3, 2, 8, 0, 0, 0)},
		// A date, a date-time without zone: UTC.
		{"2026-03-02", utc(2026, 3, 2, 0, 0, 0, 0)},
		{"2026-03-02T10:00", utc(2026, 3, 2, 10, 0, 0, 0)},
		{"2026-03-02T10:00:05", utc(2026, 3, 2, 10, 0, 5, 0)},
		{"2026-03-02T10:00:05.25", utc(2026, 3, 2, 10, 0, 5, 25e7)},
		{"2026-03-02 10:00", utc(2026, 3, 2, 10, 0, 0, 0)},
		{"2026-03-02 10:00:05", utc(2026, 3, 2, 10, 0, 5, 0)},
		{"  2026-03-02  ", utc(2026, 3, 2, 0, 0, 0, 0)},
		{"1969-07-20T20:17:40Z", utc(1969, 7, 20, 20, 17, 40, 0)},
		// ISO 8601's basic form: eight digits that make a date are one.
		{"20260302", utc(2026, 3, 2, 0, 0, 0, 0)},
		{"20260302T100005Z", utc(2026, 3, 2, 10, 0, 5, 0)},
		{"20260302T100005+0100", utc(2026, 3, 2, 9, 0, 5, 0)},
		{"20260302T1000", utc(2026, 3, 2, 10, 0, 0, 0)},
		// Unix seconds.
		{"1772445600", 1772445600 * 1e9},
		{"1772445600.5", 1772445600*1e9 + 5e8},
		{"1772445600.123456789999", 1772445600*1e9 + 123456789},
		{"0", 0},
		// Whole numbers of 12 digits or more: milliseconds, microseconds,
		// nanoseconds.
		{"1772445600123", 1772445600123 * 1e6},
		{"1772445600123456", 1772445600123456 * 1e3},
		{"1772445600123456789", 1772445600123456789},
		// ISO 8601's basic offset; year-first dates with slashes.
		{"2026-03-02T10:00:05+0100", utc(2026, 3, 2, 9, 0, 5, 0)},
		{"2026-03-02T10:00-0530", utc(2026, 3, 2, 15, 30, 0, 0)},
		{"2026/03/02", utc(2026, 3, 2, 0, 0, 0, 0)},
		{"2026/03/02 10:00:05", utc(2026, 3, 2, 10, 0, 5, 0)},
		// Relative to now.
		{"now", ns(testNow)},
		{"NOW", ns(testNow)},
		{"-6h", ns(testNow.Add(-6 * time.Hour))},
		{"+90m", ns(testNow.Add(90 * time.Minute))},
		{"now-2d", ns(testNow.Add(-48 * time.Hour))},
		{"now+1h", ns(testNow.Add(time.Hour))},
		{"now - 1w", ns(testNow.Add(-7 * 24 * time.Hour))},
		{"now-1d12h", ns(testNow.Add(-36 * time.Hour))},
		{"now-1.5h", ns(testNow.Add(-90 * time.Minute))},
		// Relative to the store's last flow.
		{"end", testStoreEnd},
		{"End-6h", testStoreEnd - int64(6*time.Hour)},
		{"end+30s", testStoreEnd + int64(30*time.Second)},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in, testNow, testStoreEnd)
		if err != nil {
			t.Errorf("ParseTime(%q): got error %v, want %d", tt.in, err, tt.want)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseTime(%q): got %d (%v), want %d (%v)", tt.in, got, time.Unix(0, got).UTC(), tt.want, time.Unix(0, tt.want).UTC())
		}
	}
}

func TestParseTimeErrors(t *testing.T) {
	const generic = "expected RFC 3339, a date, unix seconds, or now/end±duration"
	tests := []struct {
		in       string
		storeEnd int64
		want     string // the whole error message
	}{
		{"x", testStoreEnd, `cannot parse time "x": ` + generic},
		{"", testStoreEnd, `cannot parse time "": ` + generic},
		{"yesterday", testStoreEnd, `cannot parse time "yesterday": ` + generic},
		{"2026-13-02", testStoreEnd, `cannot parse time "2026-13-02": ` + generic},
		{"20260230", testStoreEnd, `cannot parse time "20260230": 20260230 is no date (YYYYMMDD)`}, // it was 1970-08-23 in seconds
		{"20261302", testStoreEnd, `cannot parse time "20261302": 20261302 is no date (YYYYMMDD)`},
		{"2026-03-02T25:00", testStoreEnd, `cannot parse time "2026-03-02T25:00": ` + generic},
		{"02/03/2026", testStoreEnd, `cannot parse time "02/03/2026": ` + generic},
		{"1772445600.", testStoreEnd, `cannot parse time "1772445600.": ` + generic},
		{"end", 0, `cannot parse time "end": store is empty`},
		{"end-6h", 0, `cannot parse time "end-6h": store is empty`},
		{"now-2x", testStoreEnd, `cannot parse time "now-2x": cannot parse duration "2x": unknown unit "x" (want ns, us, ms, s, m, h, d or w)`},
		{"-6", testStoreEnd, `cannot parse time "-6": cannot parse duration "6": missing unit (want ns, us, ms, s, m, h, d or w)`},
		{"now-", testStoreEnd, `cannot parse time "now-": cannot parse duration "": empty duration`},
		{"now--2d", testStoreEnd, `cannot parse time "now--2d": cannot parse duration "-2d": expected a number at "-2d"`},
		{"nowish", testStoreEnd, `cannot parse time "nowish": expected now/end±duration, like now-2d or end-6h`},
		{"now-100000w", testStoreEnd, `cannot parse time "now-100000w": cannot parse duration "100000w": out of range`},
		{"now+15000w", testStoreEnd, `cannot parse time "now+15000w": time out of range`},
		{"99999999999", testStoreEnd, `cannot parse time "99999999999": unix seconds out of range`}, // 11 digits: seconds (after 2262)
		{"9999999999999999999", testStoreEnd, `cannot parse time "9999999999999999999": unix time out of range`},
		{"9999999999999", testStoreEnd, `cannot parse time "9999999999999": unix time out of range`}, // 13 digits: ms, past 2262 (wrapped before)
		{"99999999999.5", testStoreEnd, `cannot parse time "99999999999.5": unix seconds out of range`},
		{"2263-01-01", testStoreEnd, `cannot parse time "2263-01-01": time out of range (years 1678 to 2262)`},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in, testNow, tt.storeEnd)
		if err == nil {
			t.Errorf("ParseTime(%q): got %d, want error %q", tt.in, got, tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("ParseTime(%q): got error %q, want %q", tt.in, err, tt.want)
		}
	}
	if _, err := ParseTime("end", testNow, 0); !errors.Is(err, ErrStoreEmpty) {
		t.Errorf("ParseTime(end) on an empty store: got %v, want ErrStoreEmpty", err)
	}
}

func TestParseDuration(t *testing.T) {
	const day, week = 24 * time.Hour, 7 * 24 * time.Hour
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"0", 0},
		{"-0", 0},
		{"24h", day},
		{"1d", day},
		{"2w", 2 * week},
		{"1d12h", 36 * time.Hour},
		{"1w2d3h4m5s6ms7us8ns", week + 2*day + 3*time.Hour + 4*time.Minute + 5*time.Second + 6*time.Millisecond + 7*time.Microsecond + 8},
		{"1.5d", 36 * time.Hour},
		{".5h", 30 * time.Minute},
		{"-1d", -day},
		{"+1w", week},
		{"10µs", 10 * time.Microsecond},
		{"10μs", 10 * time.Microsecond},
		{"15250w", 15250 * week},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if err != nil {
			t.Errorf("ParseDuration(%q): got error %v, want %v", tt.in, err, tt.want)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseDuration(%q): got %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseDurationErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `cannot parse duration "": empty duration`},
		{"1", `cannot parse duration "1": missing unit (want ns, us, ms, s, m, h, d or w)`},
		{"1y", `cannot parse duration "1y": unknown unit "y" (want ns, us, ms, s, m, h, d or w)`},
		{"1D", `cannot parse duration "1D": unknown unit "D" (want ns, us, ms, s, m, h, d or w)`},
		{"d", `cannot parse duration "d": expected a number at "d"`},
		{".d", `cannot parse duration ".d": expected a number before '.'`},
		{"16000w", `cannot parse duration "16000w": out of range`},
		{"9223372036854775808ns", `cannot parse duration "9223372036854775808ns": out of range`},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if err == nil {
			t.Errorf("ParseDuration(%q): got %v, want error %q", tt.in, got, tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("ParseDuration(%q): got error %q, want %q", tt.in, err, tt.want)
		}
	}
}

// TestParseDurationLikeGo checks that Go durations parse to what
// time.ParseDuration says.
func TestParseDurationLikeGo(t *testing.T) {
	for _, s := range []string{"1h30m", "1.5h", "-10s", "300ms", "2h45m0.5s", "1.0000000001s", "9223372036854775807ns", "-9223372036854775808ns", "0.000000001s", "1h1h"} {
		want, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("time.ParseDuration(%q): %v", s, err)
		}
		got, err := ParseDuration(s)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q): got %v, %v, want %v", s, got, err, want)
		}
	}
}

func TestRangeContains(t *testing.T) {
	r := Range{From: 100, To: 200}
	s := Range{From: 100, To: 200, Starting: true}
	tests := []struct {
		r          Range
		start, end int64
		want       bool
	}{
		{r, 100, 100, true},
		{r, 150, 160, true},
		{r, 50, 100, true},  // ends at From: overlaps
		{r, 50, 99, false},  // ends before From
		{r, 50, 300, true},  // spans the range
		{r, 199, 300, true}, // starts before To
		{r, 200, 300, false},
		{s, 100, 100, true},
		{s, 199, 500, true},
		{s, 50, 150, false}, // started before From
		{s, 200, 200, false},
		{Range{From: 100, To: 100}, 100, 100, false}, // empty
	}
	for _, tt := range tests {
		if got := tt.r.Contains(tt.start, tt.end); got != tt.want {
			t.Errorf("%+v.Contains(%d, %d): got %v, want %v", tt.r, tt.start, tt.end, got, tt.want)
		}
	}
}

// FuzzParseTime checks that ParseTime never panics, that an error always
// says what it could not parse, and cross-checks RFC 3339 input against
// time.Parse and unix seconds against strconv.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{
		"2026-03-02T10:00:05Z",           // RFC 3339
		"2026-03-02T10:00:05.5+01:00",    // fractional seconds, a zone
		"2026-03-02",                     // a date
		"2026-03-02 10:00",               // date-time without seconds, a space
		"1772445600.25",                  // unix seconds
		"now-2d",                         // relative to now
		"-6h",                            // bare relative
		"end-1w2d",                       // relative to the store
		"now+9223372036854775807ns",      // overflow
		"2262-04-11T23:47:16.854775807Z", // the last representable instant
		"1677-09-21T00:12:43Z",           // just before the first
		"now-.5h",                        // fraction without integer part
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s, testNow, testStoreEnd)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "cannot parse time ") {
				t.Fatalf("ParseTime(%q): error %q does not start with \"cannot parse time\"", s, err)
			}
			return
		}
		if tm, perr := time.Parse(time.RFC3339Nano, s); perr == nil && tm.Year() > 1700 && tm.Year() < 2200 {
			if got != tm.UnixNano() {
				t.Fatalf("ParseTime(%q): got %d, time.Parse says %d", s, got, tm.UnixNano())
			}
		}
	})
}

// FuzzParseDuration cross-checks ParseDuration against time.ParseDuration:
// what Go accepts must give the same value.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{
		"1h30m", "1.5d", "1w2d", ".5s", "-0", "9223372036854775807ns",
		"-9223372036854775808ns", "2562047h47m16.854775807s", "1.00000000000000000001h",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseDuration(s)
		want, werr := time.ParseDuration(s)
		if werr == nil && (err != nil || got != want) {
			t.Fatalf("ParseDuration(%q): got %v, %v; time.ParseDuration says %v", s, got, err, want)
		}
	})
}

// TestParseZone: IANA names and fixed offsets, as --tz and --input-tz take
// them; nonsense is an error naming the forms.
func TestParseZone(t *testing.T) {
	at := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]int{
		"UTC": 0, "Europe/Berlin": 3600, "+01:00": 3600, "-0530": -5*3600 - 1800, "+05": 5 * 3600,
		"UTC+1": 3600, "GMT-03:00": -3 * 3600, "utc+0545": 5*3600 + 45*60, "+14:00": 14 * 3600,
	} {
		loc, err := ParseZone(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if _, off := at.In(loc).Zone(); off != want {
			t.Errorf("%q: offset %d s, want %d", in, off, want)
		}
	}
	for _, in := range []string{"+25:00", "+01:60", "Mars/Olympus", "+1:2:3", "+", "UTC+", "+0a"} {
		if _, err := ParseZone(in); err == nil || !strings.Contains(err.Error(), "+01:00") {
			t.Errorf("%q: error %v, want one naming the forms", in, err)
		}
	}
}
