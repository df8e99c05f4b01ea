// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package report

import (
	"math"
	"slices"
)

// Summary is one figure over R runs: the median, the extremes and every
// run in the order it was measured.
type Summary struct {
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Runs   []float64 `json:"runs"`
}

// summarize returns the Summary of runs, or nil if there are none. The
// median of an even count is the mean of the middle two.
func Summarize(runs []float64) *Summary {
	if len(runs) == 0 {
		return nil
	}
	s := slices.Clone(runs)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return &Summary{Median: med, Min: s[0], Max: s[n-1], Runs: slices.Clone(runs)}
}

// Spread is half the range over the median, as a fraction: the ± the
// table prints. It is 0 for a single run or a zero median.
func (s *Summary) Spread() float64 {
	if s == nil || s.Median == 0 || len(s.Runs) < 2 {
		return 0
	}
	return (s.Max - s.Min) / 2 / math.Abs(s.Median)
}
