// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package report is the shoot-out's report: what it measured (Report,
// the JSON schema), the rows, winners and ranking checks built from the
// runs, and its outputs: the table, CSV, JSON, benchstat and the chart.
package report

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/nalloc/nalloc/bench/internal/metric"
	"github.com/nalloc/nalloc/bench/internal/workload"
)

// SchemaVersion names the JSON schema. Fields are only ever added within
// a version; a change that could break a reader gets a new version.
const SchemaVersion = "nalloc-bench/v1"

// Report is everything a shoot-out measured: the JSON output as it is
// (see the package comment for the schema), and what the table, CSV,
// benchstat and chart outputs are made from.
type Report struct {
	Schema     string            `json:"schema"`
	Started    time.Time         `json:"started"`
	Seconds    float64           `json:"seconds"`
	Machine    Machine           `json:"machine"`
	Config     ReportConfig      `json:"config"`
	Allocators []AllocatorStatus `json:"allocators"`
	Native     NativeStatus      `json:"native"`
	Cgo        CgoStatus         `json:"cgo"`
	Workloads  []WorkloadReport  `json:"workloads"`
	Rankings   []RankingCheck    `json:"ranking_checks"`
	Notes      []string          `json:"notes"`
}

// Machine is where the figures were measured.
type Machine struct {
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPU       string `json:"cpu"`
	CPUs      int    `json:"cpus"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go_version"`
	CGO       string `json:"cgo_enabled"` // "0", "1", or "" if the build does not say
	Tags      string `json:"build_tags"`
	// Emulated is EmulationWarning's text when the CPU was emulated, and
	// empty on real hardware: such a report's figures mean nothing.
	Emulated string `json:"emulated,omitempty"`
}

// ReportConfig is the settings the figures were measured with.
type ReportConfig struct {
	Runs    int             `json:"runs"`
	Quick   bool            `json:"quick"`
	Threads int             `json:"threads"`
	Native  bool            `json:"native"`
	Params  workload.Params `json:"params"`
}

// AllocatorStatus says whether an allocator took part, and if not, why.
type AllocatorStatus struct {
	Name    string            `json:"name"`
	Backend string            `json:"backend,omitempty"` // the native backend, for a native library
	Path    string            `json:"path,omitempty"`    // a -library column's path
	Loaded  bool              `json:"loaded"`
	Error   string            `json:"error,omitempty"`
	Info    map[string]string `json:"info,omitempty"` // type, library, version, arena
}

// NativeStatus says whether the C column was measured.
type NativeStatus struct {
	Enabled  bool   `json:"enabled"`
	Compiler string `json:"compiler,omitempty"`
	Skipped  string `json:"skipped,omitempty"`
}

// CgoStatus says whether the cgo peer was measured.
type CgoStatus struct {
	Enabled bool   `json:"enabled"`
	Skipped string `json:"skipped,omitempty"`
}

// WorkloadReport is one workload's figures, row by row.
type WorkloadReport struct {
	Name          string            `json:"name"`
	Description   string            `json:"description"`
	Rows          []Row             `json:"rows"`
	NotApplicable map[string]string `json:"not_applicable,omitempty"` // allocator -> why
	Errors        map[string]string `json:"errors,omitempty"`         // allocator, "allocator (C)" or "allocator (cgo)" -> error
}

// Row is one figure of a workload for every allocator.
type Row struct {
	Case    string   `json:"case"`             // "size=16B", "threads=4", or ""
	Metric  string   `json:"metric"`           // a stable ID: "ns_per_pair"
	Label   string   `json:"label"`            // the table's label: "ns/pair"
	Unit    string   `json:"unit"`             // ns, us, s, B, 1/s, count, x
	Better  string   `json:"better,omitempty"` // lower, higher, or "" (no winner)
	Cells   []Cell   `json:"cells"`
	Winners []string `json:"winners,omitempty"` // the best median; more than one on a tie
}

// Cell is one allocator's figure in a row: through nalloc from Go, and,
// for the native allocators, the same Go workload through cgo and the
// same workload in C.
type Cell struct {
	Allocator string   `json:"allocator"`
	Go        *Summary `json:"go,omitempty"`
	C         *Summary `json:"c,omitempty"`
	CGO       *Summary `json:"cgo,omitempty"`
	// XC is the Go figure's cost over the C figure's (Go/C for times,
	// C/Go for throughputs): 2 means twice the C cost. 0 when absent.
	XC float64 `json:"xc,omitempty"`
	// XCGO is the cgo figure's cost over the C figure's, beside XC.
	XCGO float64 `json:"xcgo,omitempty"`
}

// of returns the cell's summary measured by v.
func (c *Cell) of(v metric.Via) *Summary {
	switch v {
	case metric.ViaC:
		return c.C
	case metric.ViaCgo:
		return c.CGO
	}
	return c.Go
}

// RankingCheck compares the order of two native allocators in a row
// through nalloc with their order in a reference, C or cgo, where the
// reference's gap is over 10%.
type RankingCheck struct {
	Workload string     `json:"workload"`
	Case     string     `json:"case"`
	Metric   string     `json:"metric"`
	Against  metric.Via `json:"against"` // the reference: c or cgo
	// Faster, Slower and Gap are the reference's order and gap (the JSON
	// names date from when C was the only reference).
	Faster string  `json:"faster_in_c"`
	Slower string  `json:"slower_in_c"`
	Gap    float64 `json:"c_gap"` // how much costlier the slower is there: 0.25 = 25%
	Agrees bool    `json:"agrees"`
}

// rankingGap is the reference's gap from which the Go order must agree.
const rankingGap = 0.10

// CellData is what the runs of one workload on one allocator produced,
// by way of measuring.
type CellData struct {
	Runs map[metric.Via]map[workload.RowKey][]float64
	Errs map[metric.Via]string
	NA   string // the workload does not apply
}

// CellKey names a cell: a workload and an allocator.
type CellKey struct{ Workload, Allocator string }

// NewCellData returns an empty CellData.
func NewCellData() *CellData {
	d := &CellData{Runs: map[metric.Via]map[workload.RowKey][]float64{}, Errs: map[metric.Via]string{}}
	for _, v := range metric.Vias {
		d.Runs[v] = map[workload.RowKey][]float64{}
	}
	return d
}

// errorKey is the key of an error in WorkloadReport.Errors.
func errorKey(allocator string, v metric.Via) string {
	switch v {
	case metric.ViaC:
		return allocator + " (C)"
	case metric.ViaCgo:
		return allocator + " (cgo)"
	}
	return allocator
}

// buildWorkloads turns the runs into rows, winners and ratios.
func BuildWorkloads(ws []*workload.Workload, p *workload.Params, loaded []string, cells map[CellKey]*CellData) []WorkloadReport {
	var out []WorkloadReport
	for _, w := range ws {
		wr := WorkloadReport{Name: w.Name, Description: w.Desc}
		for _, k := range append(w.Rows(p), workload.CommonRows()...) {
			m := metric.ByID(k.Metric)
			row := Row{Case: k.Case, Metric: m.ID, Label: m.Label, Unit: m.Unit, Better: m.Better}
			any := false
			for _, a := range loaded {
				d := cells[CellKey{Workload: w.Name, Allocator: a}]
				if d == nil {
					d = NewCellData()
				}
				c := Cell{Allocator: a, Go: Summarize(d.Runs[metric.ViaGo][k]), C: Summarize(d.Runs[metric.ViaC][k]), CGO: Summarize(d.Runs[metric.ViaCgo][k])}
				if m.Crossing {
					c.XC, c.XCGO = overC(m, c.Go, c.C), overC(m, c.CGO, c.C)
				}
				any = any || c.Go != nil || c.C != nil || c.CGO != nil
				row.Cells = append(row.Cells, c)
			}
			if !any {
				continue
			}
			row.Winners = winners(m, row.Cells)
			wr.Rows = append(wr.Rows, row)
		}
		for _, a := range loaded {
			d := cells[CellKey{Workload: w.Name, Allocator: a}]
			if d == nil {
				continue
			}
			if d.NA != "" {
				setKey(&wr.NotApplicable, a, d.NA)
			}
			for _, v := range metric.Vias {
				if d.Errs[v] != "" {
					setKey(&wr.Errors, errorKey(a, v), d.Errs[v])
				}
			}
		}
		out = append(out, wr)
	}
	return out
}

func setKey(m *map[string]string, k, v string) {
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[k] = v
}

// overC is s's cost over the C figure's, or 0 if either is missing.
func overC(m *metric.Metric, s, c *Summary) float64 {
	if s == nil || c == nil || s.Median <= 0 || c.Median <= 0 {
		return 0
	}
	return cost(m, s.Median) / cost(m, c.Median)
}

// cost turns a figure into something lower-is-better.
func cost(m *metric.Metric, v float64) float64 {
	if m.Better == "higher" {
		return 1 / v
	}
	return v
}

// winners returns the allocators with the best Go median of a row, if
// the metric has a better side and at least two allocators have figures.
func winners(m *metric.Metric, cells []Cell) []string {
	if m.Better == "" {
		return nil
	}
	best, n := math.Inf(1), 0
	for _, c := range cells {
		if c.Go != nil {
			n++
			best = min(best, cost(m, c.Go.Median))
		}
	}
	if n < 2 {
		return nil
	}
	var w []string
	for _, c := range cells {
		if c.Go != nil && cost(m, c.Go.Median) == best {
			w = append(w, c.Allocator)
		}
	}
	return w
}

// checkRankings compares, for every crossing row, each pair of allocators
// with figures from a reference (C, then cgo): where the reference's gap
// is over rankingGap, the order through nalloc should be the same.
func CheckRankings(wrs []WorkloadReport) []RankingCheck {
	var out []RankingCheck
	for _, ref := range []metric.Via{metric.ViaC, metric.ViaCgo} {
		for _, wr := range wrs {
			for _, row := range wr.Rows {
				m := metric.ByID(row.Metric)
				if !m.Crossing {
					continue
				}
				for i := range row.Cells {
					for j := i + 1; j < len(row.Cells); j++ {
						a, b := &row.Cells[i], &row.Cells[j]
						if a.Go == nil || a.of(ref) == nil || b.Go == nil || b.of(ref) == nil {
							continue
						}
						ca, cb := cost(m, a.of(ref).Median), cost(m, b.of(ref).Median)
						fast, slow := a, b
						if cb < ca {
							fast, slow, ca, cb = b, a, cb, ca
						}
						gap := cb/ca - 1
						if ca <= 0 || gap <= rankingGap {
							continue
						}
						out = append(out, RankingCheck{
							Workload: wr.Name, Case: row.Case, Metric: row.Metric, Against: ref,
							Faster: fast.Allocator, Slower: slow.Allocator, Gap: gap,
							Agrees: cost(m, fast.Go.Median) < cost(m, slow.Go.Median),
						})
					}
				}
			}
		}
	}
	return out
}

// rankingNotes says how the rankings compare, visibly: one line per
// disagreement, and one line of summary per reference.
func RankingNotes(r *Report) []string {
	var notes []string
	natives := 0
	for _, a := range r.Allocators {
		if a.Backend != "" && a.Loaded {
			natives++
		}
	}
	for _, ref := range []metric.Via{metric.ViaC, metric.ViaCgo} {
		name := map[metric.Via]string{metric.ViaC: "C", metric.ViaCgo: "cgo"}[ref]
		switch {
		case ref == metric.ViaC && !r.Native.Enabled, ref == metric.ViaCgo && !r.Cgo.Enabled:
			continue
		case natives < 2:
			notes = append(notes, fmt.Sprintf("ranking check against %s: needs two or more native libraries loaded; nothing to compare", name))
			continue
		}
		agree, n := 0, 0
		for _, c := range r.Rankings {
			if c.Against != ref {
				continue
			}
			n++
			if c.Agrees {
				agree++
				continue
			}
			where := c.Workload
			if c.Case != "" {
				where += " " + c.Case
			}
			notes = append(notes, fmt.Sprintf("ranking differs from %s: %s: through %s %s beats %s by %.0f%%, through nalloc it does not",
				name, where, name, c.Faster, c.Slower, 100*c.Gap))
		}
		if n == 0 {
			notes = append(notes, fmt.Sprintf("ranking check against %s: no row where the native libraries differ by more than 10%% through %s", name, name))
		} else {
			notes = append(notes, fmt.Sprintf("ranking check against %s: the order through nalloc agrees in %d of %d comparisons where %s's gap is over 10%%",
				name, agree, n, name))
		}
	}
	return notes
}

// ThisMachine describes this machine and build.
func ThisMachine() Machine {
	m := Machine{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVersion: runtime.Version(),
		Emulated: EmulationWarning(EmulatedTimes)}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range bytes.Lines(b) {
			if k, v, ok := strings.Cut(string(line), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "CGO_ENABLED":
				m.CGO = s.Value
			case "-tags":
				m.Tags = s.Value
			}
		}
	}
	return m
}

// loadedNames lists the allocators that took part, in order.
func (r *Report) LoadedNames() []string {
	var names []string
	for _, a := range r.Allocators {
		if a.Loaded {
			names = append(names, a.Name)
		}
	}
	return names
}
