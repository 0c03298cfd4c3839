package jsonflow

import (
	"testing"
	"time"
)

// timeLine is one NDJSON record with the given start value (raw JSON).
func timeLine(v string) string {
	return `{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":` + v + "}\n"
}

// readTime reads one record with the given ts value: its start, or the
// reason it was rejected.
func readTime(t *testing.T, v string, opt Options) (int64, string) {
	t.Helper()
	res := readOK(t, timeLine(v), opt)
	if len(res.rejects) == 1 {
		return 0, res.rejects[0].Reason
	}
	if len(res.recs) != 1 {
		t.Fatalf("ts %s: got %d records and no reject", v, len(res.recs))
	}
	return res.recs[0].Start, ""
}

func TestEpochMagnitudes(t *testing.T) {
	tests := []struct {
		v      string
		want   int64
		reason string
	}{
		{"1700000000", 1700000000e9, ""},                    // seconds
		{"1700000000.5", 1700000000500000000, ""},           // fractional seconds
		{`"1700000000.123456789"`, 1700000000123456789, ""}, // a numeric string
		{`" 1700000000 "`, 1700000000e9, ""},                // spaces around it
		{"1700000000.1234567899", 1700000000123456789, ""},  // below a ns: truncated
		{"1.7e9", 1700000000e9, ""},                         // exponent
		{"1700000000123", 1700000000123000000, ""},          // milliseconds
		{"1700000000123.5", 1700000000123500000, ""},        // fractional ms
		{`"1700000000123"`, 1700000000123000000, ""},        // ms as a string
		{"1700000000123456", 1700000000123456000, ""},       // microseconds
		{"1700000000123456.7", 1700000000123456700, ""},     // fractional us
		{"1700000000123456789", 1700000000123456789, ""},    // nanoseconds
		{`"1700000000123456789"`, 1700000000123456789, ""},  // ns as a string
		{"1.7e18", 1700000000000000000, ""},                 // ns, exponent
		{"99999999999", 0, ReasonFuture},                    // < 1e11: seconds, year 5138
		{"100000000000", 0, ReasonTooOld},                   // 1e11: milliseconds, 1973
		{"99999999999999", 0, ReasonFuture},                 // < 1e14: ms, year 5138
		{"100000000000000", 0, ReasonTooOld},                // 1e14: microseconds, 1973
		{"0", 0, ReasonTooOld},                              // a zero clock
		{"-1700000000", 0, ReasonTooOld},                    // negative
		{"631151999", 0, ReasonTooOld},                      // 1989-12-31T23:59:59Z
		{"631152000", 631152000e9, ""},                      // 1990-01-01T00:00:00Z
		{"1735776000", 1735776000e9, ""},                    // Now + 1 day exactly
		{"1735776000.000000001", 0, ReasonFuture},           // just after
		{"1e30", 0, ReasonFuture},                           // overflows int64 ns
		{"-1e30", 0, ReasonTooOld},                          // overflows the other way
		{"9223372036854775807", 0, ReasonFuture},            // max int64 ns
		{"18446744073709551616123", 0, ReasonFuture},        // beyond uint64
		{`"17e"`, 0, ReasonBadTime},                         // not a number
		{`"yesterday"`, 0, ReasonBadTime},                   // not a time
		{`""`, 0, ReasonBadTime},                            // empty
		{"true", 0, ReasonBadTime},                          // not a string or number
		{`{"sec":1}`, 0, ReasonBadTime},                     // nested
	}
	for _, tt := range tests {
		got, reason := readTime(t, tt.v, Options{})
		if got != tt.want || reason != tt.reason {
			t.Errorf("ts %s: got %d %q, want %d %q", tt.v, got, reason, tt.want, tt.reason)
		}
	}
}

func TestRFC3339(t *testing.T) {
	tests := []struct {
		v      string
		want   int64
		reason string
	}{
		{"2024-05-06T07:08:09Z", utc(2024, 5, 6, 7, 8, 9, 0), ""},
		{"2024-05-06T07:08:09.5Z", utc(2024, 5, 6, 7, 8, 9, 500000000), ""},
		{"2024-05-06T07:08:09.123456789Z", utc(2024, 5, 6, 7, 8, 9, 123456789), ""},
		{"2024-05-06T07:08:09.1234567891Z", utc(2024, 5, 6, 7, 8, 9, 123456789), ""}, // truncated
		{"2024-05-06T07:08:09,25Z", utc(2024, 5, 6, 7, 8, 9, 250000000), ""},         // comma
		{"2024-05-06 07:08:09Z", utc(2024, 5, 6, 7, 8, 9, 0), ""},                    // space
		{"2024-05-06t07:08:09z", utc(2024, 5, 6, 7, 8, 9, 0), ""},                    // lower case
		{"2024-05-06T07:08:09+02:00", utc(2024, 5, 6, 5, 8, 9, 0), ""},
		{"2024-05-06T07:08:09.001-05:30", utc(2024, 5, 6, 12, 38, 9, 1000000), ""},
		{"2024-05-06T07:08:09-0530", utc(2024, 5, 6, 12, 38, 9, 0), ""}, // no colon
		{"2024-05-06T07:08:09+00:00", utc(2024, 5, 6, 7, 8, 9, 0), ""},
		{"2024-01-01T01:00:00+23:59", utc(2023, 12, 31, 1, 1, 0, 0), ""},
		{"2016-12-31T23:59:60Z", utc(2017, 1, 1, 0, 0, 0, 0), ""}, // leap second
		{"2024-02-29T00:00:00Z", utc(2024, 2, 29, 0, 0, 0, 0), ""},
		{" 2024-05-06T07:08:09Z ", utc(2024, 5, 6, 7, 8, 9, 0), ""},
		{"1990-01-01T00:00:00Z", utc(1990, 1, 1, 0, 0, 0, 0), ""},
		{"1990-01-01T00:59:59+01:00", 0, ReasonTooOld},
		{"1989-12-31T23:59:59.999999999Z", 0, ReasonTooOld},
		{"0000-01-01T00:00:00Z", 0, ReasonTooOld},
		{"2025-01-02T00:00:00Z", utc(2025, 1, 2, 0, 0, 0, 0), ""}, // Now + 1 day
		{"2025-01-02T00:00:00.000000001Z", 0, ReasonFuture},
		{"9999-12-31T23:59:59Z", 0, ReasonFuture},
		{"2024-05-06T07:08:09", 0, ReasonNoZone},
		{"2024-05-06 07:08:09.123456", 0, ReasonNoZone}, // Python's isoformat(" ")
		{"2023-02-29T00:00:00Z", 0, ReasonBadTime},      // not a leap year
		{"2024-04-31T00:00:00Z", 0, ReasonBadTime},
		{"2024-13-01T00:00:00Z", 0, ReasonBadTime},
		{"2024-00-01T00:00:00Z", 0, ReasonBadTime},
		{"2024-05-06T24:00:00Z", 0, ReasonBadTime},
		{"2024-05-06T07:60:00Z", 0, ReasonBadTime},
		{"2024-05-06T07:08:61Z", 0, ReasonBadTime},
		{"2024-05-06T07:08Z", 0, ReasonBadTime},
		{"2024-05-06T07:08:09.Z", 0, ReasonBadTime},
		{"2024-05-06T07:08:09+24:00", 0, ReasonBadTime},
		{"2000-01-01T00:00:00+00:60", 0, ReasonBadTime}, // time.Parse takes it (found by FuzzParseTime)
		{"2000-01-01T0:00:00+00:00", 0, ReasonBadTime},  // one-digit hour: likewise
		{"2024-05-06T07:08:09+02", 0, ReasonBadTime},
		{"2024-05-06T07:08:09 Z", 0, ReasonBadTime},
		{"2024-05-06T07:08:09ZZ", 0, ReasonBadTime},
		{"2024-05-06", 0, ReasonBadTime},
		{"2024-05-06X07:08:09Z", 0, ReasonBadTime},
		{"2024-5-6T07:08:09Z", 0, ReasonBadTime},
		{"+2024-05-06T07:08:09Z", 0, ReasonBadTime},
	}
	for _, tt := range tests {
		got, reason := readTime(t, `"`+tt.v+`"`, Options{})
		if got != tt.want || reason != tt.reason {
			t.Errorf("%q: got %d %q, want %d %q", tt.v, got, reason, tt.want, tt.reason)
		}
	}
}

func TestZonelessInputTZ(t *testing.T) {
	plus3 := time.FixedZone("UTC+3", 3*3600)
	tests := []struct {
		v    string
		tz   *time.Location
		want int64
	}{
		{"2024-05-06T07:08:09", plus3, utc(2024, 5, 6, 4, 8, 9, 0)},
		{"2024-05-06 07:08:09.123456", plus3, utc(2024, 5, 6, 4, 8, 9, 123456000)},
		{"2024-05-06T07:08:09", time.UTC, utc(2024, 5, 6, 7, 8, 9, 0)},
		{"2024-05-06T07:08:09Z", plus3, utc(2024, 5, 6, 7, 8, 9, 0)},      // a zone wins
		{"2024-05-06T07:08:09+01:00", plus3, utc(2024, 5, 6, 6, 8, 9, 0)}, // a zone wins
	}
	if ny, err := time.LoadLocation("America/New_York"); err == nil {
		tests = append(tests,
			struct {
				v    string
				tz   *time.Location
				want int64
			}{"2024-07-01T12:00:00", ny, utc(2024, 7, 1, 16, 0, 0, 0)}, // EDT
			struct {
				v    string
				tz   *time.Location
				want int64
			}{"2024-01-01T12:00:00", ny, utc(2024, 1, 1, 17, 0, 0, 0)}) // EST
	}
	for _, tt := range tests {
		got, reason := readTime(t, `"`+tt.v+`"`, Options{InputTZ: tt.tz})
		if got != tt.want || reason != "" {
			t.Errorf("%q in %v: got %d %q, want %d", tt.v, tt.tz, got, reason, tt.want)
		}
	}
	if _, reason := readTime(t, `"2024-05-06T07:08:09"`, Options{}); reason != ReasonNoZone {
		t.Errorf("zone-less without InputTZ: got %q, want %q", reason, ReasonNoZone)
	}
}

// TestTimeFields checks the priority of the start and end fields and the
// duration.
func TestTimeFields(t *testing.T) {
	const t0 = 1700000000
	tests := []struct {
		fields     string
		start, end int64
		reason     string
	}{
		{`"start":1700000000`, t0 * 1e9, t0 * 1e9, ""},
		{`"first_seen":1700000000`, t0 * 1e9, t0 * 1e9, ""},
		{`"timestamp":1700000000`, t0 * 1e9, t0 * 1e9, ""},
		{`"ts":1700000000,"timestamp":1700000001,"first_seen":1700000002,"start":1700000003`, (t0 + 3) * 1e9, (t0 + 3) * 1e9, ""},
		{`"ts":1700000000,"timestamp":1700000001`, (t0 + 1) * 1e9, (t0 + 1) * 1e9, ""},
		{`"ts":1700000000,"first_seen":1700000002`, (t0 + 2) * 1e9, (t0 + 2) * 1e9, ""},
		{`"start":null,"ts":1700000000`, t0 * 1e9, t0 * 1e9, ""},
		{`"start":"bad","ts":1700000000`, 0, 0, ReasonBadTime}, // no fallback past a bad one
		{`"ts":1700000000,"end":1700000005`, t0 * 1e9, (t0 + 5) * 1e9, ""},
		{`"ts":1700000000,"last_seen":1700000006`, t0 * 1e9, (t0 + 6) * 1e9, ""},
		{`"ts":1700000000,"last_seen":1700000006,"end":1700000005`, t0 * 1e9, (t0 + 5) * 1e9, ""},
		{`"ts":1700000000,"end":1700000005,"duration":100`, t0 * 1e9, (t0 + 5) * 1e9, ""}, // end wins
		{`"ts":1700000000,"duration":1.25`, t0 * 1e9, t0*1e9 + 1250000000, ""},
		{`"ts":1700000000,"duration":"0.000000001"`, t0 * 1e9, t0*1e9 + 1, ""},
		{`"ts":1700000000,"duration":0`, t0 * 1e9, t0 * 1e9, ""},
		{`"ts":1700000000,"duration":-1`, 0, 0, ReasonEndBeforeStart},
		{`"ts":1700000000,"end":1699999999`, 0, 0, ReasonEndBeforeStart},
		{`"ts":"2024-01-01T00:00:01Z","end":"2024-01-01T00:00:00Z"`, 0, 0, ReasonEndBeforeStart},
		// nfdump 1.7's start and end of softflowd's IPFIX records, swapped,
		// with te - ts in unsigned ms as the duration: taken swapped.
		{`"ts":1700000023,"end":1700000000,"duration":18446744073709528.000`, t0 * 1e9, (t0 + 23) * 1e9, ""},
		{`"ts":1700000023,"end":1700000000,"duration":"18446744073709528.000"`, t0 * 1e9, (t0 + 23) * 1e9, ""},
		{`"ts":1700000000,"end":1700000000,"duration":18446744073709552.000`, t0 * 1e9, t0 * 1e9, ""},
		{`"ts":1700000023,"end":1700000000,"duration":18446744073709000`, 0, 0, ReasonEndBeforeStart}, // a wrap of another span
		{`"ts":1700000023,"end":1700000000,"duration":23`, 0, 0, ReasonEndBeforeStart},
		{`"ts":1700086500,"end":1700000000,"duration":18446744073623051.616`, 0, 0, ReasonEndBeforeStart}, // over a day
		{`"ts":1700000000,"end":1700000005,"duration":"long"`, t0 * 1e9, (t0 + 5) * 1e9, ""},              // not read beside both times
		{`"ts":1700000000,"duration":"long"`, 0, 0, ReasonBadNumber},
		{`"ts":1700000000,"duration":true`, 0, 0, ReasonBadNumber},
		{`"ts":1700000000,"duration":1e300`, 0, 0, ReasonNumberRange},
		{`"ts":1735000000,"duration":1e9`, 0, 0, ReasonFuture}, // end in the future
		{`"ts":1700000000,"end":"2024-01-01T00:00:00"`, 0, 0, ReasonNoZone},
		{`"duration":5`, 0, 0, ReasonNoTime},
	}
	for _, tt := range tests {
		in := `{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2",` + tt.fields + "}"
		res := readOK(t, in, Options{})
		var start, end int64
		var reason string
		if len(res.recs) == 1 {
			start, end = res.recs[0].Start, res.recs[0].End
		}
		if len(res.rejects) == 1 {
			reason = res.rejects[0].Reason
		}
		if start != tt.start || end != tt.end || reason != tt.reason {
			t.Errorf("%s: got %d..%d %q, want %d..%d %q", tt.fields, start, end, reason, tt.start, tt.end, tt.reason)
		}
	}
}

// TestMonthNameTimes: CEF's "MMM dd yyyy HH:MM:SS[.SSS] [ZONE]".
func TestMonthNameTimes(t *testing.T) {
	latest := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	for _, c := range []struct {
		in     string
		tz     *time.Location
		want   time.Time
		reason string
	}{
		{"May 01 2023 12:00:40 GMT", nil, time.Date(2023, 5, 1, 12, 0, 40, 0, time.UTC), ""},
		{"May 1 2023 12:00:40.250 UTC", nil, time.Date(2023, 5, 1, 12, 0, 40, 25e7, time.UTC), ""},
		{"dec 31 2022 23:59:59 +0100", nil, time.Date(2022, 12, 31, 22, 59, 59, 0, time.UTC), ""},
		{"May 01 2023 12:00:40 CEST", berlin, time.Date(2023, 5, 1, 10, 0, 40, 0, time.UTC), ""},
		{"May 01 2023 12:00:40", nil, time.Time{}, ReasonNoZone},
		{"Foo 01 2023 12:00:40 GMT", nil, time.Time{}, ReasonBadTime},
		{"May 32 2023 12:00:40 GMT", nil, time.Time{}, ReasonBadTime},
	} {
		ns, reason := parseTime([]byte(c.in), true, c.tz, latest)
		if reason != c.reason || (reason == "" && ns != c.want.UnixNano()) {
			t.Errorf("%q: got %v %q, want %v %q", c.in, time.Unix(0, ns).UTC(), reason, c.want, c.reason)
		}
	}
}
