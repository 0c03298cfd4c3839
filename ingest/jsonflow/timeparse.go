package jsonflow

import (
	"bytes"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// minTime is 1990-01-01T00:00:00Z in unix seconds: earlier times are
// rejected as a wrong unit or a zero clock, not evidence.
const minTime = flow.MinPlausible / 1e9

// parseTime reads a time: an RFC 3339 date-time (when str, the value was a
// JSON string) or a unix epoch number. It returns unix nanoseconds, or the
// reason it cannot: ReasonBadTime, ReasonNoZone, ReasonTooOld or
// ReasonFuture (after latest, in unix ns). A zone-less date-time is read
// in tz, and rejected when tz is nil.
func parseTime(b []byte, str bool, tz *time.Location, latest int64) (int64, string) {
	if str {
		b = trimSpace(b)
		if len(b) > 4 && (b[4] == '-' || b[4] == '/') && isDigit(b[0]) && isDigit(b[1]) && isDigit(b[2]) && isDigit(b[3]) {
			return parseDateTime(b, tz, latest)
		}
		if len(b) > 2 && (b[1] == '/' || b[2] == '/') && isDigit(b[0]) {
			return parseDayFirst(b, tz, latest)
		}
		if len(b) > 3 && 'a' <= lower(b[0]) && lower(b[0]) <= 'z' {
			return parseMonthName(b, tz, latest)
		}
	}
	return parseEpoch(b, latest)
}

// appendDigits appends n (0 <= n < 10^width) in width digits.
func appendDigits(b []byte, n, width int) []byte {
	for i := width - 1; i >= 0; i-- {
		d := n
		for range i {
			d /= 10
		}
		b = append(b, byte('0'+d%10))
	}
	return b
}

var monthAbbrs = [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// parseMonthName reads "MMM dd yyyy HH:MM:SS[.fraction][ ZONE]", as CEF's
// times are written (rt=May 01 2023 12:00:40 GMT), and Kibana's "MMM d,
// yyyy @ HH:mm:ss.SSS" (its CSV exports' default). GMT, UTC, Z and
// numeric offsets are zones; a zone's name (PST, CET) is not enough to
// know the offset, so such a time is read as zone-less.
func parseMonthName(b []byte, tz *time.Location, latest int64) (int64, string) {
	month := 0
	for i, m := range monthAbbrs {
		if len(b) > 3 && lower(b[0]) == m[0] && lower(b[1]) == m[1] && lower(b[2]) == m[2] && b[3] == ' ' {
			month = i + 1
		}
	}
	if month == 0 {
		return 0, ReasonBadTime
	}
	rest := trimSpace(b[4:])
	sp := 0
	for sp < len(rest) && isDigit(rest[sp]) {
		sp++
	}
	day, ok := atoiN(rest[:sp])
	if ok && sp < len(rest) && rest[sp] == ',' {
		rest = append(rest[:sp:sp], rest[sp+1:]...) // Kibana's "Mar 2, 2026 @ 10:00:00.000" (a copy: b is not changed)
	}
	if sp == 0 || sp > 2 || !ok || len(rest) < sp+1+4+1+8 || rest[sp] != ' ' || rest[sp+5] != ' ' {
		return 0, ReasonBadTime
	}
	year, ok := atoiN(rest[sp+1 : sp+5])
	if !ok {
		return 0, ReasonBadTime
	}
	after := rest[sp+6:]
	if len(after) > 2 && after[0] == '@' && after[1] == ' ' {
		after = after[2:]
	}
	clock, zone, _ := bytes.Cut(after, []byte{' '})
	var arr [64]byte // "YYYY-MM-DD " + clock + zone, on the stack
	buf := append(appendDigits(arr[:0], year, 4), '-')
	buf = append(appendDigits(buf, month, 2), '-')
	buf = append(append(appendDigits(buf, day, 2), ' '), clock...)
	switch z := string(trimSpace(zone)); {
	case z == "GMT" || z == "UTC" || z == "Z":
		buf = append(buf, 'Z')
	case len(z) > 0 && (z[0] == '+' || z[0] == '-'):
		buf = append(buf, z...)
	}
	return parseDateTime(buf, tz, latest)
}

// parseDayFirst reads D/M/YYYY H:MM[:SS[.fraction]][ AM|PM], zone-less, as
// CICFlowMeter writes it (the CIC-IDS2017 and CSE-CIC-IDS2018 datasets:
// "7/7/2017 3:30", "14/02/2018 08:31:01"). The day comes first unless the
// first number cannot be a day of a month that the second can be (13/..
// is a day; 1/13/.. is month-first, as US locales write).
func parseDayFirst(b []byte, tz *time.Location, latest int64) (int64, string) {
	num := func(least, most int) (int, bool) { // a number of least to most digits
		n, i := 0, 0
		for ; i < len(b) && i < most && isDigit(b[i]); i++ {
			n = n*10 + int(b[i]-'0')
		}
		if i < least {
			return 0, false
		}
		b = b[i:]
		return n, true
	}
	sep := func(c byte) bool {
		if len(b) == 0 || b[0] != c {
			return false
		}
		b = b[1:]
		return true
	}
	var c civil
	var ok bool
	if c.day, ok = num(1, 2); !ok || !sep('/') {
		return 0, ReasonBadTime
	}
	if c.month, ok = num(1, 2); !ok || !sep('/') {
		return 0, ReasonBadTime
	}
	if c.year, ok = num(4, 4); !ok || !(sep(' ') || sep('T')) {
		return 0, ReasonBadTime
	}
	if c.day <= 12 && c.month > 12 {
		c.day, c.month = c.month, c.day
	}
	if c.hour, ok = num(1, 2); !ok || !sep(':') {
		return 0, ReasonBadTime
	}
	if c.min, ok = num(2, 2); !ok {
		return 0, ReasonBadTime
	}
	if sep(':') {
		if c.sec, ok = num(2, 2); !ok {
			return 0, ReasonBadTime
		}
		if c.nsec, b, ok = parseFraction(b); !ok {
			return 0, ReasonBadTime
		}
	}
	switch half := trimSpace(b); string(half) {
	case "":
	case "AM", "am", "PM", "pm":
		if c.hour < 1 || c.hour > 12 {
			return 0, ReasonBadTime
		}
		c.hour %= 12
		if lower(half[0]) == 'p' {
			c.hour += 12
		}
	default:
		return 0, ReasonBadTime
	}
	if !c.valid() {
		return 0, ReasonBadTime
	}
	if tz == nil {
		return 0, ReasonNoZone
	}
	t := time.Date(c.year, time.Month(c.month), c.day, c.hour, c.min, c.sec, c.nsec, tz)
	return fromUnix(t.Unix(), int64(t.Nanosecond()), latest)
}

// parseEpoch reads unix seconds, milliseconds, microseconds or
// nanoseconds, told apart by magnitude (flow.EpochShift).
func parseEpoch(b []byte, latest int64) (int64, string) {
	d, ok := parseDecimal(b)
	if !ok {
		return 0, ReasonBadTime
	}
	ns, ok := d.scaled(flow.EpochShift(d.intDigits()))
	switch {
	case !ok && d.neg, ok && ns < minTime*1e9:
		return 0, ReasonTooOld
	case !ok, ns > latest:
		return 0, ReasonFuture
	}
	return ns, ""
}

// civil is a date-time as written, before its zone is applied.
type civil struct {
	year, month, day, hour, min, sec, nsec int
}

// parseDateTime reads YYYY-MM-DD(T| )HH:MM:SS[.fraction][Z|+HH:MM|+HHMM].
func parseDateTime(b []byte, tz *time.Location, latest int64) (int64, string) {
	c, rest, ok := parseCivil(b)
	if !ok {
		return 0, ReasonBadTime
	}
	if len(rest) == 0 {
		if tz == nil {
			return 0, ReasonNoZone
		}
		t := time.Date(c.year, time.Month(c.month), c.day, c.hour, c.min, c.sec, c.nsec, tz)
		return fromUnix(t.Unix(), int64(t.Nanosecond()), latest)
	}
	off, ok := parseOffset(rest)
	if !ok {
		return 0, ReasonBadTime
	}
	days := daysFromCivil(c.year, c.month, c.day)
	sec := days*86400 + int64(c.hour*3600+c.min*60+c.sec-off)
	return fromUnix(sec, int64(c.nsec), latest)
}

// fromUnix checks a time in seconds and nanoseconds against the accepted
// range before it multiplies, so that no year overflows.
func fromUnix(sec, nsec, latest int64) (int64, string) {
	switch {
	case sec < minTime:
		return 0, ReasonTooOld
	case sec > latest/1e9:
		return 0, ReasonFuture
	}
	ns := sec*1e9 + nsec
	if ns > latest {
		return 0, ReasonFuture
	}
	return ns, ""
}

// parseCivil reads the date, time and fraction; rest is the zone, if any.
// The date's separators are '-', or '/' as Argus writes them
// (2011/08/10 09:46:53.047277).
func parseCivil(b []byte) (c civil, rest []byte, ok bool) {
	if len(b) < 19 || (b[4] != '-' && b[4] != '/') || b[7] != b[4] || b[13] != ':' || b[16] != ':' {
		return c, nil, false
	}
	if t := b[10]; t != 'T' && t != 't' && t != ' ' {
		return c, nil, false
	}
	var ok1, ok2, ok3, ok4, ok5, ok6 bool
	c.year, ok1 = atoiN(b[0:4])
	c.month, ok2 = atoiN(b[5:7])
	c.day, ok3 = atoiN(b[8:10])
	c.hour, ok4 = atoiN(b[11:13])
	c.min, ok5 = atoiN(b[14:16])
	c.sec, ok6 = atoiN(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || !c.valid() {
		return c, nil, false
	}
	c.nsec, rest, ok = parseFraction(b[19:])
	return c, rest, ok
}

// valid checks the ranges; a leap second (:60) is accepted and counts as
// the first second of the next minute.
func (c civil) valid() bool {
	return c.month >= 1 && c.month <= 12 && c.day >= 1 && c.day <= daysIn(c.year, c.month) &&
		c.hour <= 23 && c.min <= 59 && c.sec <= 60
}

// parseFraction reads an optional fraction of a second ('.' or ',' and
// one or more digits; digits past the nanosecond are dropped).
func parseFraction(b []byte) (nsec int, rest []byte, ok bool) {
	if len(b) == 0 || (b[0] != '.' && b[0] != ',') {
		return 0, b, true
	}
	i := 1
	for ; i < len(b) && isDigit(b[i]); i++ {
		if i <= 9 {
			nsec = nsec*10 + int(b[i]-'0')
		}
	}
	if i == 1 {
		return 0, nil, false
	}
	for n := i; n <= 9; n++ {
		nsec *= 10
	}
	return nsec, b[i:], true
}

// parseOffset reads Z, +HH:MM or +HHMM (or '-'), returning seconds east
// of UTC.
func parseOffset(b []byte) (int, bool) {
	if len(b) == 1 && (b[0] == 'Z' || b[0] == 'z') {
		return 0, true
	}
	var hh, mm []byte
	switch {
	case len(b) == 6 && b[3] == ':':
		hh, mm = b[1:3], b[4:6]
	case len(b) == 5:
		hh, mm = b[1:3], b[3:5]
	default:
		return 0, false
	}
	h, ok1 := atoiN(hh)
	m, ok2 := atoiN(mm)
	if !ok1 || !ok2 || h > 23 || m > 59 || (b[0] != '+' && b[0] != '-') {
		return 0, false
	}
	off := h*3600 + m*60
	if b[0] == '-' {
		off = -off
	}
	return off, true
}

// atoiN reads a fixed number of decimal digits.
func atoiN(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic
// Gregorian date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12 // March = 0
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// parseDuration reads a duration in seconds (may be fractional or
// negative) as nanoseconds.
func parseDuration(b []byte) (int64, numStatus) {
	d, ok := parseDecimal(b)
	if !ok {
		return 0, numBad
	}
	ns, ok := d.scaled(9)
	if !ok {
		return 0, numRange
	}
	return ns, numOK
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
