package detectors

import (
	"math"
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
	slices.Sort(scratch)
	d.MAD = quantile(scratch, 0.5)
	return d, scratch
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
