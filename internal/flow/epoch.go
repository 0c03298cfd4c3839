package flow

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
