// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package metric defines the figures the shoot-out reports: their IDs
// (part of its JSON and CSV schema: only ever added, never renamed),
// labels, units and which side is better, and how they are printed.
package metric

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// A Metric is one kind of figure a workload reports. Its ID is part of
// the JSON and CSV schema: IDs are never renamed, only added.
type Metric struct {
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
	// Define refuses a metric without.
	BenchUnit string
}

// ByID returns the metric with the ID, or nil.
func ByID(id string) *Metric { return byID[id] }

// The metrics, by ID.
var byID = map[string]*Metric{}

// Define adds a metric and returns its ID. It panics on an ID defined
// twice or a metric without a benchstat unit: both are programmer errors,
// caught when the package starts.
func Define(m Metric) string {
	if byID[m.ID] != nil {
		panic("bench: metric " + m.ID + " defined twice")
	}
	if m.BenchUnit == "" || strings.ContainsAny(m.BenchUnit, " \t") {
		panic("bench: metric " + m.ID + " has no benchstat unit (BenchUnit, without spaces)")
	}
	byID[m.ID] = &m
	return m.ID
}

// The metric IDs.
var (
	NsPerPair   = Define(Metric{ID: "ns_per_pair", Label: "ns/pair", Unit: "ns", Better: "lower", Crossing: true, Table: true, BenchUnit: "ns/pair"})
	PairsPerSec = Define(Metric{ID: "pairs_per_sec", Label: "pairs/s", Unit: "1/s", Better: "higher", Crossing: true, Table: true, BenchUnit: "pairs/s"})
	Scaling     = Define(Metric{ID: "scaling", Label: "vs 1 thread", Unit: "x", Better: "higher", Table: true, BenchUnit: "x-vs-1-thread"})
	UsPerStep   = Define(Metric{ID: "us_per_step", Label: "µs/step", Unit: "us", Better: "lower", Crossing: true, Table: true, BenchUnit: "us/step"})
	NsPerBox    = Define(Metric{ID: "ns_per_box", Label: "ns/box", Unit: "ns", Better: "lower", Crossing: true, Table: true, BenchUnit: "ns/box"})
	BuildS      = Define(Metric{ID: "build_seconds", Label: "build live set, CPU", Unit: "s", Better: "lower", Table: true, BenchUnit: "sec/build"})
	StreamS     = Define(Metric{ID: "stream_seconds", Label: "Go alloc stream, CPU", Unit: "s", Better: "lower", Table: true, BenchUnit: "sec/stream"})
	GCCycles    = Define(Metric{ID: "gc_cycles", Label: "GC cycles", Unit: "count", Better: "lower", Table: true, BenchUnit: "gc-cycles"})
	GCCPU       = Define(Metric{ID: "gc_cpu_seconds", Label: "GC CPU", Unit: "s", Better: "lower", Table: true, BenchUnit: "gc-cpu-sec"})
	GCP99       = Define(Metric{ID: "gc_pause_p99_seconds", Label: "GC pause p99", Unit: "s", Better: "lower", Table: true, BenchUnit: "gc-p99-pause-sec"})
	NsPerIter   = Define(Metric{ID: "ns_per_iter", Label: "ns/iteration", Unit: "ns", Better: "lower", Crossing: true, Table: true, BenchUnit: "ns/iter"})
	FreesPerSec = Define(Metric{ID: "frees_per_sec", Label: "frees/s", Unit: "1/s", Better: "higher", Crossing: true, Table: true, BenchUnit: "frees/s"})
	OpsPerSec   = Define(Metric{ID: "ops_per_sec", Label: "ops/s", Unit: "1/s", Better: "higher", Crossing: true, Table: true, BenchUnit: "ops/s"})

	// What mimalloc-bench reports of every run: the process's figures,
	// from the start of the workload to its end (each run is a process
	// of its own).
	PeakRSS     = Define(Metric{ID: "peak_rss", Label: "peak RSS", Unit: "B", Better: "lower", Table: true, BenchUnit: "peak-RSS-B"})
	Faults      = Define(Metric{ID: "minor_faults", Label: "minor faults", Unit: "count", Better: "lower", Table: true, BenchUnit: "minor-faults"})
	MajorFaults = Define(Metric{ID: "major_faults", Label: "major faults", Unit: "count", Better: "lower", BenchUnit: "major-faults"})
	Elapsed     = Define(Metric{ID: "elapsed_seconds", Label: "elapsed", Unit: "s", Better: "lower", BenchUnit: "sec/run"})
	UserCPU     = Define(Metric{ID: "user_cpu_seconds", Label: "user CPU", Unit: "s", Better: "lower", BenchUnit: "user-sec/run"})
	SysCPU      = Define(Metric{ID: "system_cpu_seconds", Label: "system CPU", Unit: "s", Better: "lower", BenchUnit: "sys-sec/run"})
)

// Process are the process figures every run reports, in the
// order of the rows.
var Process = []string{PeakRSS, Faults, MajorFaults, Elapsed, UserCPU, SysCPU}

// StatsFields are the nalloc.Stats fields, in the order of the struct.
var StatsFields = [...]string{"allocated", "active", "resident", "mapped", "retained", "metadata"}

// Stats returns the ID of the metric for one nalloc.Stats field
// sampled at a point of the workload: "held" (its high-water mark, while
// it holds its blocks) or "after" (when it has freed everything).
func Stats(when, field string) string { return "stats_" + when + "_" + field }

func init() {
	for _, when := range []string{"held", "after"} {
		for _, f := range StatsFields {
			Define(Metric{
				ID:    Stats(when, f),
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

// Format prints v in the metric's unit with three significant digits,
// scaling bytes to KiB/MiB/GiB and seconds to ms/µs.
func (m *Metric) Format(v float64) string {
	switch m.Unit {
	case "B":
		return FormatBytes(v)
	case "s":
		switch a := math.Abs(v); {
		case a == 0:
			return "0 s"
		case a < 1e-3:
			return Sig3(v*1e6) + " µs"
		case a < 1:
			return Sig3(v*1e3) + " ms"
		}
		return Sig3(v) + " s"
	case "1/s":
		switch a := math.Abs(v); {
		case a >= 1e9:
			return Sig3(v/1e9) + " G/s"
		case a >= 1e6:
			return Sig3(v/1e6) + " M/s"
		case a >= 1e3:
			return Sig3(v/1e3) + " k/s"
		}
		return Sig3(v) + " /s"
	case "count":
		if v == math.Trunc(v) && math.Abs(v) < 1e7 {
			return fmt.Sprintf("%.0f", v)
		}
		return Sig3(v)
	case "x":
		return Sig3(v) + "x"
	}
	return Sig3(v) // ns, µs: the unit is in the row label
}

func FormatBytes(v float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for math.Abs(v) >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", v)
	}
	return Sig3(v) + " " + units[i]
}

// Sig3 formats v with three significant digits, without an exponent
// for the magnitudes the shoot-out meets.
func Sig3(v float64) string {
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

// Via is how a figure was measured.
type Via string

const (
	ViaGo  Via = "go"  // the Go workload through nalloc's Allocator (or a peer's)
	ViaC   Via = "c"   // the workload in C (csrc), calling the library's pair
	ViaCgo Via = "cgo" // the Go workload calling the library's pair through cgo
)

// Vias are the ways, in the order of the output.
var Vias = []Via{ViaGo, ViaCgo, ViaC}

// ParseSize reads a byte count: a number with an optional unit, B, KiB,
// MiB, GiB, TiB (powers of 1024; K, M, G, T mean the same), or KB, MB, GB,
// TB (powers of 1000). Units are case-insensitive; fractions are allowed
// ("1.5GiB").
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	mult, ok := sizeUnits[strings.ToLower(unit)]
	if !ok {
		return 0, fmt.Errorf("size %q: unknown unit %q; use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB", s, unit)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" {
		return 0, fmt.Errorf("size %q: not a number followed by a unit, such as 64MiB", s)
	}
	b := v * mult
	if b < 0 || b >= math.MaxInt64 {
		return 0, fmt.Errorf("size %q: out of range", s)
	}
	return int64(b), nil
}

var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tib": 1 << 40,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
}
