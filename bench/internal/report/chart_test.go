// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package report

import (
	"bytes"
	"encoding/xml"
	"html"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nalloc/nalloc/bench/internal/metric"
	"github.com/nalloc/nalloc/bench/internal/workload"
)

// fullReport is a report with made-up figures in every row of every
// workload for names, with C and cgo figures for those in natives, as a
// full shoot-out on a machine with every backend would have.
func fullReport(t *testing.T, names, natives []string) *Report {
	t.Helper()
	p := workload.ParamsFor(false, 16, false, 1<<30)
	cells := map[CellKey]*CellData{}
	for _, w := range workload.All() {
		for ai, a := range names {
			d := NewCellData()
			cells[CellKey{Workload: w.Name, Allocator: a}] = d
			if a == "bump" && w.NotFor != nil {
				d.NA = "an arena"
				continue
			}
			for ri, k := range append(w.Rows(&p), workload.CommonRows()...) {
				v := float64(10+7*ai+3*ri) * math.Pow(3, float64(ai%3))
				d.Runs[metric.ViaGo][k] = []float64{v * 0.9, v, v * 1.2}
				if slices.Contains(natives, a) && w.CArgs != nil && metric.ByID(k.Metric).Crossing {
					d.Runs[metric.ViaC][k] = []float64{v / 2, v / 2, v / 2}
					d.Runs[metric.ViaCgo][k] = []float64{v * 2, v * 2, v * 2}
				}
			}
		}
	}
	rep := &Report{Schema: SchemaVersion, Machine: ThisMachine(), Config: ReportConfig{Runs: 3},
		Native: NativeStatus{Enabled: true}, Cgo: CgoStatus{Enabled: true}}
	for _, n := range names {
		rep.Allocators = append(rep.Allocators, AllocatorStatus{Name: n, Loaded: true})
	}
	rep.Workloads = BuildWorkloads(workload.All(), &p, names, cells)
	return rep
}

func TestChart(t *testing.T) {
	natives := []string{"glibc", "jemalloc", "mimalloc", "tcmalloc", "tbbmalloc", "mimalloc@libmimalloc.so.3"}
	rep := fullReport(t, append([]string{"make", "bump", "go", "modernc", "custom"}, natives...), natives)
	dir := t.TempDir()
	png, svg := filepath.Join(dir, "c.png"), filepath.Join(dir, "c.svg")
	if err := drawChart(rep, png); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("%s is not a PNG: %v", png, err)
	}
	if err := drawChart(rep, svg); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("%s is not well-formed XML: %v", svg, err)
		}
	}
	for _, p := range chartPanels() {
		if !bytes.Contains(b, []byte(html.EscapeString(p.Title))) {
			t.Errorf("the SVG lacks the panel %q", p.Title)
		}
	}
	for _, name := range []string{"tbbmalloc", "modernc", "mimalloc@libmimalloc.so.3", "the same Go workload through cgo"} {
		if !bytes.Contains(b, []byte(name)) {
			t.Errorf("the SVG's legend lacks %q", name)
		}
	}
	// Every allocator has a colour of its own.
	seen := map[color.Color]string{}
	for n, c := range colors(rep) {
		if other, dup := seen[c]; dup {
			t.Errorf("%s and %s have the same colour", n, other)
		}
		seen[c] = n
	}
	if err := drawChart(&Report{}, png); err == nil {
		t.Errorf("a report without figures drew a chart")
	}
}
