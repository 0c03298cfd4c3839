package jsonflow

import "math"

// numStatus says why a number could not be read.
type numStatus uint8

const (
	numOK    numStatus = iota
	numBad             // not a number, or not a whole number
	numRange           // a whole number out of the field's range
)

// pow10 holds 10^0 .. 10^19 (10^19 still fits in a uint64).
var pow10 = func() (p [20]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// decimal is a number read exactly: its value is (-1 if neg) * mant *
// 10^exp. As many significant digits are kept as fit in a uint64 (19 or
// 20); lossy says that a non-zero digit beyond them was dropped.
type decimal struct {
	neg    bool
	lossy  bool
	digits int // significant digits in mant
	exp    int
	mant   uint64
}

// maxExp bounds the exponent so that no arithmetic on it overflows; any
// number that large is out of every range anyway.
const maxExp = 10000

// parseDecimal reads a number by the JSON grammar (leading zeros are
// allowed, for numeric strings such as "007").
func parseDecimal(b []byte) (decimal, bool) {
	var d decimal
	i := 0
	if i < len(b) && b[i] == '-' {
		d.neg = true
		i++
	}
	i, ok := d.readDigits(b, i, false)
	if !ok {
		return d, false
	}
	if i < len(b) && b[i] == '.' {
		if i, ok = d.readDigits(b, i+1, true); !ok {
			return d, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		if i, ok = d.readExp(b, i+1); !ok {
			return d, false
		}
	}
	return d, i == len(b)
}

// readDigits reads one or more digits from b[i:] into d.
func (d *decimal) readDigits(b []byte, i int, frac bool) (int, bool) {
	start := i
	for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
		d.addDigit(b[i]-'0', frac)
	}
	return i, i > start
}

func (d *decimal) addDigit(v byte, frac bool) {
	switch {
	case d.digits == 0 && v == 0: // a leading zero
	case d.mant <= (math.MaxUint64-uint64(v))/10:
		d.mant = d.mant*10 + uint64(v)
		d.digits++
	default: // beyond what a uint64 holds: dropped
		d.lossy = d.lossy || v != 0
		if !frac {
			d.exp++
		}
		return
	}
	if frac {
		d.exp--
	}
}

// readExp reads the exponent after 'e' or 'E' at b[i:].
func (d *decimal) readExp(b []byte, i int) (int, bool) {
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	start, e := i, 0
	for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
		e = min(e*10+int(b[i]-'0'), maxExp)
	}
	if neg {
		e = -e
	}
	d.exp = max(min(d.exp+e, maxExp), -maxExp)
	return i, i > start
}

// intDigits is the number of digits before the decimal point (0 for 0).
func (d decimal) intDigits() int {
	if d.mant == 0 {
		return 0
	}
	return d.digits + d.exp
}

// uint returns the value as a whole number no larger than limit.
func (d decimal) uint(limit uint64) (uint64, numStatus) {
	if d.mant == 0 {
		return 0, numOK
	}
	if d.lossy {
		// A digit that a uint64 could not take was dropped: past the
		// decimal point the number is not whole, before it too big.
		if d.exp > 0 {
			return 0, numRange
		}
		return 0, numBad
	}
	m := d.mant
	for e := d.exp; e < 0; e++ {
		if m%10 != 0 {
			return 0, numBad
		}
		m /= 10
	}
	if d.neg {
		return 0, numRange
	}
	for e := d.exp; e > 0; e-- {
		if m > limit/10 {
			return 0, numRange
		}
		m *= 10
	}
	if m > limit {
		return 0, numRange
	}
	return m, numOK
}

// scaled returns the value times 10^shift, truncated toward zero; ok is
// false when it does not fit in an int64.
func (d decimal) scaled(shift int) (int64, bool) {
	m, e := d.mant, d.exp+shift
	switch {
	case m == 0:
		return 0, true
	case e < -19:
		m = 0
	case e < 0:
		m /= pow10[-e]
	}
	for ; e > 0; e-- {
		if m > math.MaxInt64/10 {
			return 0, false
		}
		m *= 10
	}
	if m > math.MaxInt64 {
		return 0, false
	}
	if d.neg {
		return -int64(m), true
	}
	return int64(m), true
}

// parseUint reads a whole number (digits only, or any JSON number with an
// integral value such as 1.5e3) no larger than limit.
func parseUint(b []byte, limit uint64) (uint64, numStatus) {
	if len(b) == 0 || len(b) > 19 {
		return parseUintSlow(b, limit)
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return parseUintSlow(b, limit)
		}
		n = n*10 + uint64(c-'0')
	}
	if n > limit {
		return 0, numRange
	}
	return n, numOK
}

// parseFloor reads a non-negative number with a fraction or an exponent
// (100.5, 1.25e3), as some tools write averaged or scaled counters, rounded
// down to a whole number no larger than limit.
func parseFloor(b []byte, limit uint64) (uint64, numStatus) {
	d, ok := parseDecimal(b)
	switch {
	case !ok:
		return 0, numBad
	case d.neg && d.mant != 0:
		return 0, numRange
	}
	d.lossy = false // digits past what a uint64 holds are past the point, or the number is out of range below
	for ; d.exp < 0; d.exp++ {
		d.mant /= 10
	}
	return d.uint(limit)
}

func parseUintSlow(b []byte, limit uint64) (uint64, numStatus) {
	d, ok := parseDecimal(b)
	if !ok {
		return 0, numBad
	}
	return d.uint(limit)
}

// parseHex reads hexadecimal digits (after "0x") up to limit.
func parseHex(b []byte, limit uint64) (uint64, numStatus) {
	if len(b) == 0 || len(b) > 16 {
		return 0, numBad
	}
	var n uint64
	for _, c := range b {
		v := hexVal(c)
		if v < 0 {
			return 0, numBad
		}
		n = n<<4 | uint64(v)
	}
	if n > limit {
		return 0, numRange
	}
	return n, numOK
}
