// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nalloc/nalloc/bench/internal/metric"
)

// write prints r in the given format.
func write(w io.Writer, format string, r *Report) error {
	switch format {
	case "csv":
		return writeCSV(w, r)
	case "json":
		return writeJSON(w, r)
	case "benchstat":
		return writeBenchstat(w, r)
	}
	return writeTable(w, r)
}

func writeJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// csvHeader is the CSV schema: one line per allocator per row. Columns
// are only ever added, at the end.
var csvHeader = []string{"workload", "case", "metric", "unit", "better", "allocator",
	"go_median", "go_min", "go_max", "c_median", "c_min", "c_max", "xc", "winner", "runs",
	"cgo_median", "cgo_min", "cgo_max", "xcgo"}

func writeCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	ratio := func(v float64) string {
		if v == 0 {
			return ""
		}
		return num(v)
	}
	sum := func(s *Summary) []string {
		if s == nil {
			return []string{"", "", ""}
		}
		return []string{num(s.Median), num(s.Min), num(s.Max)}
	}
	for _, wr := range r.Workloads {
		for _, row := range wr.Rows {
			for _, c := range row.Cells {
				if c.Go == nil && c.C == nil && c.CGO == nil {
					continue
				}
				rec := []string{wr.Name, row.Case, row.Metric, row.Unit, row.Better, c.Allocator}
				rec = append(rec, sum(c.Go)...)
				rec = append(rec, sum(c.C)...)
				runs := 0
				for _, v := range metric.Vias {
					if s := c.of(v); s != nil {
						runs = len(s.Runs)
						break
					}
				}
				rec = append(rec, ratio(c.XC), strconv.FormatBool(slices.Contains(row.Winners, c.Allocator)), strconv.Itoa(runs))
				rec = append(rec, sum(c.CGO)...)
				rec = append(rec, ratio(c.XCGO))
				if err := cw.Write(rec); err != nil {
					return err
				}
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// benchName turns "glibc-simple" into "GlibcSimple".
func benchName(workload string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(workload, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// writeBenchstat prints every run as a line of Go's benchmark format, so
// that benchstat can compare allocators (-col /impl) or nalloc with cgo
// and C (-col /via):
//
//	BenchmarkGlibcSimple/size=16B/impl=glibc/via=go 1 18.2 ns/pair
func writeBenchstat(w io.Writer, r *Report) error {
	m := r.Machine
	fmt.Fprintf(w, "goos: %s\ngoarch: %s\npkg: github.com/nalloc/nalloc/bench\n", m.OS, m.Arch)
	if m.CPU != "" {
		fmt.Fprintf(w, "cpu: %s\n", m.CPU)
	}
	for _, wr := range r.Workloads {
		// Rows of the same case go on one line per run.
		var cases []string
		for _, row := range wr.Rows {
			if !slices.Contains(cases, row.Case) {
				cases = append(cases, row.Case)
			}
		}
		for _, a := range r.LoadedNames() {
			for _, via := range metric.Vias {
				for _, cs := range cases {
					name := "Benchmark" + benchName(wr.Name)
					if cs != "" {
						name += "/" + cs
					}
					name += "/impl=" + a + "/via=" + string(via)
					for i := 0; ; i++ {
						var b strings.Builder
						for _, row := range wr.Rows {
							if row.Case != cs {
								continue
							}
							for _, c := range row.Cells {
								s := c.of(via)
								if c.Allocator == a && s != nil && i < len(s.Runs) {
									fmt.Fprintf(&b, " %s %s", strconv.FormatFloat(s.Runs[i], 'g', -1, 64), metric.ByID(row.Metric).BenchUnit)
								}
							}
						}
						if b.Len() == 0 {
							break
						}
						if _, err := fmt.Fprintf(w, "%s 1%s\n", name, b.String()); err != nil {
							return err
						}
					}
				}
			}
		}
	}
	return nil
}

// writeTable prints the report for people: per workload, one row per
// figure and one column per allocator, the best of each row marked.
// Under a figure that native libraries have through cgo and in C too, a
// row for each, and for times and rates their cost over C's (xcgo, xC).
func writeTable(w io.Writer, r *Report) error {
	m := r.Machine
	cgo := ""
	if m.CGO != "" {
		cgo = ", CGO_ENABLED=" + m.CGO
	}
	if m.Tags != "" {
		cgo += ", -tags " + m.Tags
	}
	fmt.Fprintf(w, "nalloc shoot-out: %s/%s, %s, %d CPUs, Linux %s, %s%s\n", m.OS, m.Arch, orDash(m.CPU), m.CPUs, m.Kernel, m.GoVersion, cgo)
	if m.Emulated != "" {
		fmt.Fprintln(w, m.Emulated)
	}
	fmt.Fprintf(w, "%d run(s) per figure, each in a fresh process; shown: median ±half the range; * = best of the row\n", r.Config.Runs)
	fmt.Fprintf(w, "times are the process's CPU time (user+system, all threads, the GC's included), so other load does not count; "+
		"glibc-thread, malloc-thread, xmalloc and larson: wall time\n")
	for _, a := range r.Allocators {
		if a.Loaded {
			fmt.Fprintf(w, "allocator %s: %s\n", a.Name, describe(a.Info))
		} else {
			fmt.Fprintf(w, "skipped %s: %s\n", a.Name, a.Error)
		}
	}
	switch n := r.Native; {
	case n.Enabled:
		fmt.Fprintf(w, "in C: the same workloads in C (%s); xC = the Go figure's cost over C's\n", n.Compiler)
	case n.Skipped != "":
		fmt.Fprintf(w, "native column skipped: %s\n", n.Skipped)
	}
	switch c := r.Cgo; {
	case c.Enabled:
		fmt.Fprintf(w, "via cgo: the same Go workloads calling the library through cgo; xcgo = their cost over C's\n")
	case c.Skipped != "":
		fmt.Fprintf(w, "cgo rows skipped: %s\n", c.Skipped)
	}
	names := r.LoadedNames()
	for _, wr := range r.Workloads {
		fmt.Fprintf(w, "\n%s: %s\n", wr.Name, wr.Description)
		grid := [][]string{append([]string{"", ""}, names...)}
		for _, row := range wr.Rows {
			mt := metric.ByID(row.Metric)
			if !mt.Table {
				continue
			}
			line := []string{row.Case, row.Label}
			for _, c := range row.Cells {
				line = append(line, goCell(wr, mt, row, c))
			}
			grid = append(grid, line)
			for _, sub := range []struct {
				label string
				cell  func(c Cell) string
			}{
				{"  via cgo", func(c Cell) string { return medianText(mt, c.CGO) }},
				{"  in C", func(c Cell) string { return medianText(mt, c.C) }},
				{"  xcgo", func(c Cell) string { return ratioText(c.XCGO) }},
				{"  xC", func(c Cell) string { return ratioText(c.XC) }},
			} {
				line := []string{"", sub.label}
				any := false
				for _, c := range row.Cells {
					t := sub.cell(c)
					any = any || t != ""
					line = append(line, t)
				}
				if any {
					grid = append(grid, line)
				}
			}
		}
		WriteGrid(w, grid, 2)
		for _, a := range names {
			if why, ok := wr.NotApplicable[a]; ok {
				fmt.Fprintf(w, "  n/a %s: %s\n", a, why)
			}
		}
		for _, k := range SortedKeys(wr.Errors) {
			fmt.Fprintf(w, "  error %s: %s\n", k, wr.Errors[k])
		}
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range r.Notes {
			fmt.Fprintf(w, "note: %s\n", n)
		}
	}
	_, err := fmt.Fprintf(w, "\ntook %s\n", FormatDuration(r.Seconds))
	return err
}

func medianText(m *metric.Metric, s *Summary) string {
	if s == nil {
		return ""
	}
	return m.Format(s.Median)
}

func ratioText(x float64) string {
	if x == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f", x)
}

// goCell is the table's text for one allocator's Go figure.
func goCell(wr WorkloadReport, m *metric.Metric, row Row, c Cell) string {
	if c.Go == nil {
		switch {
		case wr.NotApplicable[c.Allocator] != "":
			return "n/a"
		case wr.Errors[c.Allocator] != "":
			return "error"
		}
		return "—"
	}
	s := m.Format(c.Go.Median)
	if len(c.Go.Runs) > 1 && m.Better != "" { // Stats are the allocator's state, not a measurement
		s += fmt.Sprintf(" ±%.0f%%", 100*c.Go.Spread())
	}
	if slices.Contains(row.Winners, c.Allocator) {
		s = "*" + s
	}
	return s
}

func describe(info map[string]string) string {
	var parts []string
	if l := info["library"]; l != "" {
		parts = append(parts, l)
	}
	if v := info["version"]; v != "" {
		parts = append(parts, v)
	}
	if t := info["type"]; t != "" {
		parts = append(parts, t)
	}
	return strings.Join(parts, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func SortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func FormatDuration(sec float64) string {
	s := int(sec + 0.5)
	if s < 60 {
		return fmt.Sprintf("%ds", s)
	}
	return fmt.Sprintf("%dm%02ds", s/60, s%60)
}

// WriteGrid prints rows as columns: the first left columns left-aligned,
// the rest right-aligned, two spaces apart.
func WriteGrid(w io.Writer, grid [][]string, left int) {
	var width []int
	for _, row := range grid {
		for i, c := range row {
			if i >= len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for _, row := range grid {
		var b strings.Builder
		for i, c := range row {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i > 0 {
				b.WriteString("  ")
			}
			if i < left {
				b.WriteString(c + pad)
			} else {
				b.WriteString(pad + c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// Output writes the report in format (table, csv, json, benchstat), and
// the chart to chart if it is not "".
// The table carries the skipped allocators and the failures; the
// machine-readable formats keep stdout clean, so they go to stderr. It
// returns 1 if a run failed or the output could not be written.
func Output(rep *Report, format, chart string, stdout, stderr io.Writer) int {
	failed := false
	for _, wr := range rep.Workloads {
		for _, k := range SortedKeys(wr.Errors) {
			failed = true
			if format != "table" {
				fmt.Fprintf(stderr, "error %s on %s: %s\n", wr.Name, k, wr.Errors[k])
			}
		}
	}
	if format != "table" {
		for _, a := range rep.Allocators {
			if !a.Loaded {
				fmt.Fprintf(stderr, "skipped %s: %s\n", a.Name, a.Error)
			}
		}
	}
	if err := write(stdout, format, rep); err != nil {
		fmt.Fprintf(stderr, "bench: writing the report: %v\n", err)
		return 1
	}
	if chart != "" {
		if err := drawChart(rep, chart); err != nil {
			fmt.Fprintf(stderr, "bench: -chart: %v\n", err)
			return 1
		}
		if format == "table" {
			fmt.Fprintf(stdout, "chart: %s\n", chart)
		}
	}
	if failed {
		return 1
	}
	return 0
}
