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
// magnitude tells (EpochShift's digits as bounds: below 1e11 seconds,
// below 1e14 milliseconds, below 1e17 microseconds), in nanoseconds; false
// when n is negative or the time lies past what int64 nanoseconds hold
// (the year 2262).
func EpochNanos(n int64) (int64, bool) {
	var scale int64
	switch {
	case n < 0:
		return 0, false
	case n < 1e11:
		scale = 1e9
	case n < 1e14:
		scale = 1e6
	case n < 1e17:
		scale = 1e3
	default:
		scale = 1
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
