package testenv

import (
	"slices"
	"time"
)

// Median is the median of the timings d (the upper one of an even
// count), for the figures the benchmark scripts print.
func Median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// Ms is d in milliseconds, to the microsecond.
func Ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
