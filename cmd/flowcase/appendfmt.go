package main

import (
	"math"
	"net/netip"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// The append functions below write flow fields straight into a byte
// slice, without the allocations of time.Format, strconv.Format*, String
// and encoding/csv. Each gives exactly the bytes of its straightforward
// counterpart (named in its comment); output_test.go checks them against
// those for random and extreme values.

// digits2 holds "00".."99".
const digits2 = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

func append2(b []byte, x int64) []byte {
	return append(b, digits2[2*x], digits2[2*x+1])
}

// timeFormatter writes instants; it remembers the last date written
// (rows come in time order, so mostly the same day) and the zone period of
// the table's time zone.
type timeFormatter struct {
	zone zoneCache
	day  int64 // days since 1970-01-01 (in the zone) of date
	date [10]byte
	have bool
}

// appendRFC3339 writes the UTC instant ns (unix nanoseconds) as
// time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.000000000Z").
func (tf *timeFormatter) appendRFC3339(b []byte, ns int64) []byte {
	sec, frac := floorDiv(ns, 1e9)
	b, ok := tf.appendDateClock(b, sec, 'T')
	if !ok {
		return time.Unix(0, ns).UTC().AppendFormat(b, "2006-01-02T15:04:05.000000000Z")
	}
	b = append(b, '.')
	b = append2(b, frac/1e7)
	b = append2(b, frac/1e5%100)
	b = append2(b, frac/1e3%100)
	b = append2(b, frac/10%100)
	return append(b, byte('0'+frac%10), 'Z')
}

// appendTableTime writes time.Unix(0, ns).In(tz).Format("2006-01-02
// 15:04:05.000") (fractions truncated, as Format does), tz being
// tf.zone.loc.
func (tf *timeFormatter) appendTableTime(b []byte, ns int64) []byte {
	sec, frac := floorDiv(ns, 1e9)
	b, ok := tf.appendDateClock(b, sec+tf.zone.offset(sec), ' ')
	if !ok {
		return time.Unix(0, ns).In(tf.zone.loc).AppendFormat(b, "2006-01-02 15:04:05.000")
	}
	ms := frac / 1e6
	return append(b, '.', byte('0'+ms/100), digits2[2*(ms%100)], digits2[2*(ms%100)+1])
}

// floorDiv returns the floor of x/d and the non-negative remainder.
func floorDiv(x, d int64) (int64, int64) {
	q, r := x/d, x%d
	if r < 0 {
		q, r = q-1, r+d
	}
	return q, r
}

// appendDateClock writes "YYYY-MM-DD" sep "hh:mm:ss" for sec seconds since
// 1970-01-01T00:00:00 (no zone: the caller adds the zone offset). It
// refuses (false, b unchanged) a year outside 0-9999, which time.Format
// writes differently; int64 nanoseconds only reach 1677-2262.
func (tf *timeFormatter) appendDateClock(b []byte, sec int64, sep byte) ([]byte, bool) {
	days, sod := floorDiv(sec, 86400)
	if !tf.have || days != tf.day {
		y, m, d := civil(days)
		if y < 0 || y > 9999 {
			return b, false
		}
		tf.date = [10]byte{digits2[2*(y/100)], digits2[2*(y/100)+1], digits2[2*(y%100)], digits2[2*(y%100)+1], '-',
			digits2[2*m], digits2[2*m+1], '-', digits2[2*d], digits2[2*d+1]}
		tf.day, tf.have = days, true
	}
	b = append(b, tf.date[:]...)
	b = append(b, sep)
	b = append2(b, sod/3600)
	b = append(b, ':')
	b = append2(b, sod/60%60)
	b = append(b, ':')
	return append2(b, sod%60), true
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's civil_from_days).
func civil(days int64) (y, m, d int64) {
	z := days + 719468
	era, doe := floorDiv(z, 146097)
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	y = yoe + era*400
	if m <= 2 {
		y++
	}
	return y, m, d
}

// zoneCache remembers the zone offset of loc from the last instant looked
// up to the end of its zone period, so that a run of instants in time
// order costs no lookup.
//
// Only the end of time.Time.ZoneBounds is used: it is the next change or
// earlier (past a zone's last listed change Go gives year ends, even one
// before the instant, which only empties the span). The start can be too
// early: there Go gives the start of the year, which may precede the
// zone's last listed change.
type zoneCache struct {
	loc      *time.Location
	from, to int64 // unix seconds, [from, to)
	off      int64 // seconds east of UTC
}

func (z *zoneCache) offset(sec int64) int64 {
	if sec >= z.from && sec < z.to {
		return z.off
	}
	t := time.Unix(sec, 0).In(z.loc)
	_, off := t.Zone()
	_, end := t.ZoneBounds()
	z.from, z.to, z.off = sec, math.MaxInt64, int64(off)
	if !end.IsZero() {
		z.to = end.Unix()
	}
	return z.off
}

// appendSeconds writes a duration of d nanoseconds as
// strconv.FormatFloat(float64(d)/1e9, 'f', -1, 64). Below 1e15 ns (11.5
// days) the decimal d/1e9 has at most 15 significant digits, so it is the
// shortest one that rounds to the same float64 (every decimal of 15
// digits reads back as itself): it is written with integers.
func appendSeconds(b []byte, d int64) []byte {
	if d < 0 || d >= 1e15 {
		return strconv.AppendFloat(b, float64(d)/1e9, 'f', -1, 64)
	}
	b = strconv.AppendInt(b, d/1e9, 10)
	frac := d % 1e9
	if frac == 0 {
		return b
	}
	var f [10]byte
	f[0] = '.'
	for i := 9; i > 0; i-- {
		f[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := 10
	for f[n-1] == '0' {
		n--
	}
	return append(b, f[:n]...)
}

// appendCSVField writes one field as encoding/csv.Writer (Comma ',',
// UseCRLF false) writes it: as is, or quoted with inner quotes doubled when
// it is `\.`, holds a comma, quote, CR or LF, or starts with a space.
func appendCSVField(b []byte, s string) []byte {
	if !csvNeedsQuotes(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

func csvNeedsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` {
		return true
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '"', '\r', '\n':
			return true
		}
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}

// octets holds the decimal text of 0..255.
var octets = func() (t [256]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

// appendAddr writes a.AppendTo(b), IPv4 by table.
func appendAddr(b []byte, a netip.Addr) []byte {
	if !a.Is4() {
		return a.AppendTo(b)
	}
	v := a.As4()
	b = append(b, octets[v[0]]...)
	b = append(b, '.')
	b = append(b, octets[v[1]]...)
	b = append(b, '.')
	b = append(b, octets[v[2]]...)
	b = append(b, '.')
	return append(b, octets[v[3]]...)
}

// appendCSVAddr writes an address as a CSV field: empty when absent. Only
// a zone (never stored, but possible in a Record) may need quotes.
func appendCSVAddr(b []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return b
	}
	if a.Zone() != "" {
		return appendCSVField(b, a.String())
	}
	return appendAddr(b, a)
}
