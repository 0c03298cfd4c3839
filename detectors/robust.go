package detectors

import (
	"math"
	"math/bits"
	"slices"
)

// quantile returns the q-quantile of sorted x by linear interpolation
// between closest ranks (R type 7, NumPy's default). x must be non-empty.
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	frac := pos - float64(i)
	return sorted[i] + frac*(sorted[i+1]-sorted[i])
}

// robust is the location, spread and asymmetry of a sample.
type robust struct {
	Q1, Median, Q3 float64
	MAD            float64 // median absolute deviation from the median
	Bowley         float64 // (Q3+Q1-2·Median)/(Q3-Q1), in [-1,1]; 0 when Q3 == Q1
	Mean           float64
}

// describe sorts x in place and returns its robust description; scratch is
// reused for the absolute deviations. x must be non-empty.
func describe(x, scratch []float64) (robust, []float64) {
	slices.Sort(x)
	var d robust
	d.Q1, d.Median, d.Q3 = quantile(x, 0.25), quantile(x, 0.5), quantile(x, 0.75)
	if iqr := d.Q3 - d.Q1; iqr > 0 {
		d.Bowley = (d.Q3 + d.Q1 - 2*d.Median) / iqr
	}
	scratch = scratch[:0]
	sum := 0.0
	for _, v := range x {
		sum += v
		scratch = append(scratch, math.Abs(v-d.Median))
	}
	d.Mean = sum / float64(len(x))
	d.MAD = median(scratch)
	return d, scratch
}

// medianMAD returns the median and the median absolute deviation of x as
// describe would, without sorting x (it is reordered); scratch is reused
// for the absolute deviations. x must be non-empty.
func medianMAD(x, scratch []float64) (med, mad float64, _ []float64) {
	med = median(x)
	scratch = scratch[:0]
	for _, v := range x {
		scratch = append(scratch, math.Abs(v-med))
	}
	return med, median(scratch), scratch
}

// median returns quantile(sorted x, 0.5) without sorting x: the order
// statistics it interpolates between are selected (x is reordered), so the
// value is exactly the sorted one's. x must be non-empty and hold no NaN.
func median(x []float64) float64 {
	i := (len(x) - 1) / 2
	lo := selectNth(x, i)
	if len(x)%2 == 1 {
		return lo
	}
	hi := slices.Min(x[i+1:])
	return lo + 0.5*(hi-lo)
}

// selectNth reorders x so that x[k] is the value sorted x would hold there,
// with no larger value before it and no smaller one after, and returns it
// (Hoare's selection, median-of-three pivots; small runs by insertion).
func selectNth(x []float64, k int) float64 {
	lo, hi := 0, len(x)-1
	for hi-lo > 16 {
		m := lo + (hi-lo)/2
		if x[m] < x[lo] {
			x[m], x[lo] = x[lo], x[m]
		}
		if x[hi] < x[lo] {
			x[hi], x[lo] = x[lo], x[hi]
		}
		if x[hi] < x[m] {
			x[hi], x[m] = x[m], x[hi]
		}
		p := x[m]
		i, j := lo, hi
		for i <= j {
			for x[i] < p {
				i++
			}
			for p < x[j] {
				j--
			}
			if i <= j {
				x[i], x[j] = x[j], x[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return x[k]
		}
	}
	slices.Sort(x[lo : hi+1])
	return x[k]
}

func clamp01(x float64) float64 {
	switch {
	case x < 0 || math.IsNaN(x):
		return 0
	case x > 1:
		return 1
	}
	return x
}

// round rounds to 4 decimal places, so JSON shows stable, readable figures.
func round(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// addSat and mulSat add and multiply byte counts, saturating at 2^64-1:
// evidence can hold absurd counters (a corrupt record, a wrapped
// exporter counter: 2^63 bytes), and sums that wrap turned two of them
// into 0 and hid the pair they were in.
func addSat(a, b uint64) uint64 {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return math.MaxUint64
	}
	return s
}

func mulSat(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return math.MaxUint64
	}
	return lo
}
