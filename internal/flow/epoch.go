package flow

import "math"

// EpochShift returns the power of ten that turns a unix time written as a
// whole number of digits significant digits into nanoseconds, its unit told
// by magnitude as exporters and log tools write epochs: up to 11 digits
// seconds (to the year 5138), up to 14 milliseconds, up to 17
// microseconds, else nanoseconds.
func EpochShift(digits int) int {
	switch {
	case digits <= 11:
		return 9
	case digits <= 14:
		return 6
	case digits <= 17:
		return 3
	}
	return 0
}

// EpochNanos returns the unix time n, a whole number in the unit its
// magnitude tells (EpochShift), in nanoseconds; false when n is negative or
// the time lies past what int64 nanoseconds hold (the year 2262).
func EpochNanos(n int64) (int64, bool) {
	if n < 0 {
		return 0, false
	}
	digits := 1
	for d := n; d >= 10; d /= 10 {
		digits++
	}
	scale := int64(1)
	for range EpochShift(digits) {
		scale *= 10
	}
	if n > math.MaxInt64/scale {
		return 0, false
	}
	return n * scale, true
}

// MinPlausible is 1990-01-01T00:00:00Z in unix nanoseconds: a flow dated
// earlier comes from a clock never set or a time read in the wrong unit,
// not from the evidence's years.
const MinPlausible int64 = 631_152_000e9
