// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package probe

import (
	"fmt"
	"image/color"
	"strings"
	"sync"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/nalloc/nalloc/bench/internal/metric"
	"github.com/nalloc/nalloc/bench/internal/report"
	"github.com/nalloc/nalloc/osmem"
)

// The probe's -timeline: a goroutine samples RSS and the program break
// every millisecond (osmem.ReadCheap, a few microseconds), the probe marks
// the moment each stage ends (when it takes the stage's snapshot), and the
// chart shows both against time with those moments as vertical lines.

type sample struct {
	ms       float64
	rss, brk float64 // bytes; brk relative to the first sample
}

type timeline struct {
	start   time.Time
	stopped chan struct{}
	done    chan []sample
	mu      sync.Mutex
	marks   []stageMark
}

type stageMark struct {
	ms   float64
	name string
}

func startTimeline() *timeline {
	tl := &timeline{start: time.Now(), stopped: make(chan struct{}), done: make(chan []sample)}
	go func() {
		var out []sample
		var base float64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if s, err := osmem.ReadCheap(); err == nil {
				if len(out) == 0 {
					base = float64(s.Break)
				}
				out = append(out, sample{ms: tl.since(), rss: float64(s.RSS), brk: float64(s.Break) - base})
			}
			select {
			case <-tl.stopped:
				tl.done <- out
				return
			case <-tick.C:
			}
		}
	}()
	return tl
}

func (tl *timeline) since() float64 { return float64(time.Since(tl.start).Microseconds()) / 1000 }

// mark records that a stage ends now; a nil timeline records nothing.
func (tl *timeline) mark(name string) {
	if tl == nil {
		return
	}
	tl.mu.Lock()
	tl.marks = append(tl.marks, stageMark{tl.since(), name})
	tl.mu.Unlock()
}

// stop ends the sampling and returns the samples, at least one.
func (tl *timeline) stop() []sample {
	close(tl.stopped)
	return <-tl.done
}

// drawTimeline draws RSS and the break against time, one panel each, with
// a vertical line and a label at each stage.
func drawTimeline(samples []sample, marks []stageMark, c *probeConfig, path string) error {
	if len(samples) == 0 {
		return fmt.Errorf("no samples")
	}
	sizes := make([]string, len(c.Sizes))
	for i, s := range c.Sizes {
		sizes[i] = metric.FormatBytes(float64(s))
	}
	title := fmt.Sprintf("probe: %s, rounds of %d blocks of %s, freed %s; dashed lines: the end of each stage",
		c.Allocator, c.Count, strings.Join(sizes, ", then "), c.Order)
	panel := func(name, unit string, value func(sample) float64, col color.Color) (*plot.Plot, error) {
		p := plot.New()
		p.Title.Text = name
		p.X.Label.Text = "milliseconds since the probe started"
		p.Y.Label.Text = unit
		p.Add(plotter.NewGrid())
		pts := make(plotter.XYs, len(samples))
		lo, hi := value(samples[0]), value(samples[0])
		for i, s := range samples {
			pts[i] = plotter.XY{X: s.ms, Y: value(s) / (1 << 20)}
			lo, hi = min(lo, value(s)), max(hi, value(s))
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		line.Color, line.Width = col, vg.Points(1.5)
		p.Add(line)
		top := hi / (1 << 20)
		bottom := lo / (1 << 20)
		if top == bottom {
			top++
		}
		for i, m := range marks {
			v, err := plotter.NewLine(plotter.XYs{{X: m.ms, Y: bottom}, {X: m.ms, Y: top}})
			if err != nil {
				return nil, err
			}
			v.Color, v.Dashes = color.Gray{Y: 140}, []vg.Length{vg.Points(3), vg.Points(3)}
			p.Add(v)
			// Stagger the labels over four heights so that close stages
			// stay readable.
			y := top - (top-bottom)*float64(i%4)/10
			lab, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: m.ms, Y: y}}, Labels: []string{m.name}})
			if err != nil {
				return nil, err
			}
			lab.TextStyle[0].Font.Size = vg.Points(8)
			lab.Offset = vg.Point{X: vg.Points(2)}
			p.Add(lab)
		}
		return p, nil
	}
	rss, err := panel("resident set (RSS)", "MiB", func(s sample) float64 { return s.rss }, report.Palette[0])
	if err != nil {
		return err
	}
	brk, err := panel("program break, above where it was at the start", "MiB", func(s sample) float64 { return s.brk }, report.Palette[1])
	if err != nil {
		return err
	}
	w, h := 12*vg.Inch, 8*vg.Inch
	cv := report.CanvasFor(path, w, h)
	dc := draw.New(cv)
	dc.FillPolygon(color.White, []vg.Point{{X: 0, Y: 0}, {X: w, Y: 0}, {X: w, Y: h}, {X: 0, Y: h}})
	head := report.TextStyle(vg.Points(13))
	dc.FillText(head, vg.Point{X: vg.Points(12), Y: h - vg.Points(20)}, title)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadY: vg.Points(16), PadTop: vg.Points(34),
		PadBottom: vg.Points(6), PadLeft: vg.Points(8), PadRight: vg.Points(14)}
	rss.Draw(tiles.At(dc, 0, 0))
	brk.Draw(tiles.At(dc, 0, 1))
	return report.WriteCanvas(cv, path)
}
