package bench

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Summary is the median, minimum and maximum of a set of samples.
type Summary struct {
	N                int
	Median, Min, Max float64
}

// Summarize returns the summary of xs, ignoring NaNs. With no samples N is
// 0 and the figures are NaN.
func Summarize(xs []float64) Summary {
	var v []float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return Summary{Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	slices.Sort(v)
	m := v[len(v)/2]
	if len(v)%2 == 0 {
		m = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return Summary{N: len(v), Median: m, Min: v[0], Max: v[len(v)-1]}
}

// PairRatios divides a[i] by b[i] for every i where both are samples (not
// NaN) and b[i] is not zero: the ratio of two contenders repetition by
// repetition, so that both figures come from the same stretch of time.
func PairRatios(a, b []float64) []float64 {
	var r []float64
	for i := range min(len(a), len(b)) {
		if math.IsNaN(a[i]) || math.IsNaN(b[i]) || b[i] == 0 {
			continue
		}
		r = append(r, a[i]/b[i])
	}
	return r
}

// Format prints a summary with f: "median (min–max)", just the median for
// one sample, "–" for none.
func (s Summary) Format(f func(float64) string) string {
	switch {
	case s.N == 0:
		return "–"
	case s.N == 1 || s.Min == s.Max:
		return f(s.Median)
	}
	return fmt.Sprintf("%s (%s–%s)", f(s.Median), f(s.Min), f(s.Max))
}

// Seconds formats a duration in seconds with a precision that suits it.
func Seconds(x float64) string {
	switch {
	case x < 1:
		return fmt.Sprintf("%.2f", x)
	case x < 100:
		return fmt.Sprintf("%.1f", x)
	}
	return fmt.Sprintf("%.0f", x)
}

// Ratio formats a ratio with three significant digits.
func Ratio(x float64) string {
	switch a := math.Abs(x); {
	case a == 0:
		return "0"
	case a >= 100:
		return fmt.Sprintf("%.0f", x)
	case a >= 10:
		return fmt.Sprintf("%.1f", x)
	case a >= 1:
		return fmt.Sprintf("%.2f", x)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3g", x), "0"), ".")
}

// Bytes formats a byte count in decimal units (B, KB, MB, GB).
func Bytes(x float64) string {
	switch a := math.Abs(x); {
	case a < 1e3:
		return fmt.Sprintf("%.0f B", x)
	case a < 1e6:
		return fmt.Sprintf("%.1f KB", x/1e3)
	case a < 1e9:
		return fmt.Sprintf("%.2f MB", x/1e6)
	}
	return fmt.Sprintf("%.2f GB", x/1e9)
}

// Mbit formats a rate in bits per second as Mbit/s.
func Mbit(bps float64) string { return fmt.Sprintf("%.2f", bps/1e6) }
