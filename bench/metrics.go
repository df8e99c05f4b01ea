// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// A metric is one kind of figure a workload reports. Its ID is part of
// the JSON and CSV schema: IDs are never renamed, only added.
type metric struct {
	ID    string // "ns_per_pair"
	Label string // the table's row label: "ns/pair"
	Unit  string // "ns", "us", "s", "B", "1/s", "count", "x"
	// Better is "lower" or "higher", or "" for a figure no one wins
	// (an allocator's own statistics).
	Better string
	// Crossing marks the time and throughput figures that the C side
	// measures too; their Go/C ratio is the cost of crossing.
	Crossing bool
	// Table is false for figures only the JSON and CSV carry.
	Table bool
	// BenchUnit is the unit in benchstat's format: no spaces, and "ns",
	// "sec" or "B" where benchstat should scale. Every metric has one:
	// defMetric refuses a metric without.
	BenchUnit string
}

// The metrics, by ID.
var metrics = map[string]*metric{}

func defMetric(m metric) string {
	if metrics[m.ID] != nil {
		panic("bench: metric " + m.ID + " defined twice")
	}
	if m.BenchUnit == "" || strings.ContainsAny(m.BenchUnit, " \t") {
		panic("bench: metric " + m.ID + " has no benchstat unit (BenchUnit, without spaces)")
	}
	metrics[m.ID] = &m
	return m.ID
}

var (
	mNsPerPair   = defMetric(metric{ID: "ns_per_pair", Label: "ns/pair", Unit: "ns", Better: "lower", Crossing: true, Table: true, BenchUnit: "ns/pair"})
	mPairsPerSec = defMetric(metric{ID: "pairs_per_sec", Label: "pairs/s", Unit: "1/s", Better: "higher", Crossing: true, Table: true, BenchUnit: "pairs/s"})
	mScaling     = defMetric(metric{ID: "scaling", Label: "vs 1 thread", Unit: "x", Better: "higher", Table: true, BenchUnit: "x-vs-1-thread"})
	mUsPerStep   = defMetric(metric{ID: "us_per_step", Label: "µs/step", Unit: "us", Better: "lower", Crossing: true, Table: true, BenchUnit: "us/step"})
	mNsPerBox    = defMetric(metric{ID: "ns_per_box", Label: "ns/box", Unit: "ns", Better: "lower", Crossing: true, Table: true, BenchUnit: "ns/box"})
	mBuildS      = defMetric(metric{ID: "build_seconds", Label: "build live set, CPU", Unit: "s", Better: "lower", Table: true, BenchUnit: "sec/build"})
	mStreamS     = defMetric(metric{ID: "stream_seconds", Label: "Go alloc stream, CPU", Unit: "s", Better: "lower", Table: true, BenchUnit: "sec/stream"})
	mGCCycles    = defMetric(metric{ID: "gc_cycles", Label: "GC cycles", Unit: "count", Better: "lower", Table: true, BenchUnit: "gc-cycles"})
	mGCCPU       = defMetric(metric{ID: "gc_cpu_seconds", Label: "GC CPU", Unit: "s", Better: "lower", Table: true, BenchUnit: "gc-cpu-sec"})
	mGCP99       = defMetric(metric{ID: "gc_pause_p99_seconds", Label: "GC pause p99", Unit: "s", Better: "lower", Table: true, BenchUnit: "gc-p99-pause-sec"})
	mNsPerIter   = defMetric(metric{ID: "ns_per_iter", Label: "ns/iteration", Unit: "ns", Better: "lower", Crossing: true, Table: true, BenchUnit: "ns/iter"})
	mFreesPerSec = defMetric(metric{ID: "frees_per_sec", Label: "frees/s", Unit: "1/s", Better: "higher", Crossing: true, Table: true, BenchUnit: "frees/s"})
	mOpsPerSec   = defMetric(metric{ID: "ops_per_sec", Label: "ops/s", Unit: "1/s", Better: "higher", Crossing: true, Table: true, BenchUnit: "ops/s"})

	// What mimalloc-bench reports of every run: the process's figures,
	// from the start of the workload to its end (each run is a process
	// of its own).
	mPeakRSS     = defMetric(metric{ID: "peak_rss", Label: "peak RSS", Unit: "B", Better: "lower", Table: true, BenchUnit: "peak-RSS-B"})
	mFaults      = defMetric(metric{ID: "minor_faults", Label: "minor faults", Unit: "count", Better: "lower", Table: true, BenchUnit: "minor-faults"})
	mMajorFaults = defMetric(metric{ID: "major_faults", Label: "major faults", Unit: "count", Better: "lower", BenchUnit: "major-faults"})
	mElapsed     = defMetric(metric{ID: "elapsed_seconds", Label: "elapsed", Unit: "s", Better: "lower", BenchUnit: "sec/run"})
	mUserCPU     = defMetric(metric{ID: "user_cpu_seconds", Label: "user CPU", Unit: "s", Better: "lower", BenchUnit: "user-sec/run"})
	mSysCPU      = defMetric(metric{ID: "system_cpu_seconds", Label: "system CPU", Unit: "s", Better: "lower", BenchUnit: "sys-sec/run"})
)

// processMetrics are the process figures every run reports, in the
// order of the rows.
var processMetrics = []string{mPeakRSS, mFaults, mMajorFaults, mElapsed, mUserCPU, mSysCPU}

// statsFields are the nalloc.Stats fields, in the order of the struct.
var statsFields = [...]string{"allocated", "active", "resident", "mapped", "retained", "metadata"}

// statsMetric returns the ID of the metric for one nalloc.Stats field
// sampled at a point of the workload: "held" (its high-water mark, while
// it holds its blocks) or "after" (when it has freed everything).
func statsMetric(when, field string) string { return "stats_" + when + "_" + field }

func init() {
	for _, when := range []string{"held", "after"} {
		for _, f := range statsFields {
			defMetric(metric{
				ID:    statsMetric(when, f),
				Label: f + ", " + when,
				Unit:  "B",
				// Only Mapped is in the table: the one figure every
				// backend fills. The rest are in JSON and CSV.
				Table:     f == "mapped",
				BenchUnit: "stats-" + when + "-" + f + "-B",
			})
		}
	}
}

// format prints v in the metric's unit with three significant digits,
// scaling bytes to KiB/MiB/GiB and seconds to ms/µs.
func (m *metric) format(v float64) string {
	switch m.Unit {
	case "B":
		return formatBytes(v)
	case "s":
		switch a := math.Abs(v); {
		case a == 0:
			return "0 s"
		case a < 1e-3:
			return sig3(v*1e6) + " µs"
		case a < 1:
			return sig3(v*1e3) + " ms"
		}
		return sig3(v) + " s"
	case "1/s":
		switch a := math.Abs(v); {
		case a >= 1e9:
			return sig3(v/1e9) + " G/s"
		case a >= 1e6:
			return sig3(v/1e6) + " M/s"
		case a >= 1e3:
			return sig3(v/1e3) + " k/s"
		}
		return sig3(v) + " /s"
	case "count":
		if v == math.Trunc(v) && math.Abs(v) < 1e7 {
			return fmt.Sprintf("%.0f", v)
		}
		return sig3(v)
	case "x":
		return sig3(v) + "x"
	}
	return sig3(v) // ns, µs: the unit is in the row label
}

func formatBytes(v float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for math.Abs(v) >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", v)
	}
	return sig3(v) + " " + units[i]
}

// sig3 formats v with three significant digits, without an exponent
// for the magnitudes the shoot-out meets.
func sig3(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a < 1e-4:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	// Decimals for three significant digits; rounding may carry into a
	// fourth (9.996 -> "10.00"), which is then dropped.
	d := 2 - int(math.Floor(math.Log10(a)))
	s := strconv.FormatFloat(v, 'f', d, 64)
	if r, _ := strconv.ParseFloat(s, 64); math.Abs(r) >= math.Pow(10, float64(3-d)) && d > 0 {
		s = strconv.FormatFloat(v, 'f', d-1, 64)
	}
	return s
}
