// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package report

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/nalloc/nalloc/bench/internal/metric"
	"github.com/nalloc/nalloc/bench/internal/workload"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// The chart: one panel per figure that matters most, grouped bars per
// workload (one bar per allocator, a black line across it where the same
// workload in C lands, a whisker from the fastest to the slowest run), and
// the thread-scaling lines; a log scale where a panel's figures span more
// than a factor of ten.

// Palette gives allocators their colours, in the order the report lists
// them (every allocator tried, loaded or not, so that a colour stays put
// between runs on machines with the same backends): the Okabe-Ito
// Palette, readable with colour blindness, then Paul Tol's darker ones.
var Palette = []color.Color{
	color.RGBA{0, 114, 178, 255},   // blue
	color.RGBA{230, 159, 0, 255},   // orange
	color.RGBA{0, 158, 115, 255},   // green
	color.RGBA{204, 121, 167, 255}, // purple
	color.RGBA{213, 94, 0, 255},    // vermillion
	color.RGBA{86, 180, 233, 255},  // sky blue
	color.RGBA{240, 228, 66, 255},  // yellow
	color.RGBA{51, 34, 136, 255},   // indigo
	color.RGBA{68, 170, 153, 255},  // teal
	color.RGBA{153, 153, 51, 255},  // olive
	color.RGBA{136, 34, 85, 255},   // wine
	color.RGBA{120, 120, 120, 255}, // grey
}

// colors maps each allocator of rep to its colour.
func colors(rep *Report) map[string]color.Color {
	m := map[string]color.Color{}
	for i, a := range rep.Allocators {
		m[a.Name] = Palette[i%len(Palette)]
	}
	return m
}

// panelSpec is one panel of the chart: a workload's Panel.
type panelSpec struct {
	workload string
	workload.Panel
}

// chartPanels are the panels, in order: each workload's (workload.Panels),
// in the workloads' order, bars (grouped by case where a workload has
// several) and lines against the thread count (Lines set).
func chartPanels() []panelSpec {
	var ps []panelSpec
	for _, w := range workload.All() {
		for _, p := range w.Panels {
			ps = append(ps, panelSpec{w.Name, p})
		}
	}
	return ps
}

// drawChart draws rep to path, as SVG or PNG by its extension.
func drawChart(rep *Report, path string) error {
	names := rep.LoadedNames()
	palette := colors(rep)
	var panels []*plot.Plot
	for _, ps := range chartPanels() {
		mk := barPanel
		if ps.Lines {
			mk = linePanel
		}
		if p := mk(rep, names, palette, ps); p != nil {
			panels = append(panels, p)
		}
	}
	if len(panels) == 0 {
		return fmt.Errorf("no figures to draw")
	}
	const cols = 3
	rows := (len(panels) + cols - 1) / cols
	w, h := 15.6*vg.Inch, vg.Length(1.2+3.6*float64(rows))*vg.Inch

	cv := CanvasFor(path, w, h)
	dc := draw.New(cv)
	dc.FillPolygon(color.White, []vg.Point{{X: 0, Y: 0}, {X: w, Y: 0}, {X: w, Y: h}, {X: 0, Y: h}})
	head := drawHeader(dc, rep, names, palette)

	grid := make([][]*plot.Plot, rows)
	for i := range grid {
		grid[i] = make([]*plot.Plot, cols)
		for j := range cols {
			if k := i*cols + j; k < len(panels) {
				grid[i][j] = panels[k]
			}
		}
	}
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(28), PadY: vg.Points(20),
		PadTop: head, PadBottom: vg.Points(8), PadLeft: vg.Points(8), PadRight: vg.Points(14)}
	for i := range grid {
		for j, p := range grid[i] {
			if p != nil {
				p.Draw(tiles.At(dc, j, i))
			}
		}
	}
	return WriteCanvas(cv, path)
}

// canvasFor returns a w by h canvas for a file named path: SVG for .svg,
// PNG at 96 dpi otherwise.
func CanvasFor(path string, w, h vg.Length) vg.CanvasWriterTo {
	if strings.ToLower(filepath.Ext(path)) == ".svg" {
		return vgsvg.New(w, h)
	}
	return vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(96))}
}

// writeCanvas writes cv to the file path.
func WriteCanvas(cv vg.CanvasWriterTo, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := cv.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func TextStyle(size vg.Length) draw.TextStyle {
	s := plot.New().Title.TextStyle
	s.Font.Size = size
	s.XAlign, s.YAlign = draw.XLeft, draw.YTop
	return s
}

// drawHeader draws the title and the shared legend at the top of the
// canvas and returns the height they take.
func drawHeader(dc draw.Canvas, rep *Report, names []string, cols map[string]color.Color) vg.Length {
	m := rep.Machine
	top := dc.Max.Y - vg.Points(10)
	left := dc.Min.X + vg.Points(14)
	title := TextStyle(vg.Points(16))
	dc.FillText(title, vg.Point{X: left, Y: top}, "nalloc shoot-out: which allocator wins which workload, and what crossing from Go costs")
	sub := TextStyle(vg.Points(10.5))
	cpu := m.CPU
	if cpu == "" {
		cpu = m.Arch
	}
	dc.FillText(sub, vg.Point{X: left, Y: top - vg.Points(22)}, fmt.Sprintf(
		"%s, %d CPUs, %s/%s, %s, %s. Bars: median of %d runs, each in a fresh process; whiskers: fastest to slowest run. "+
			"Times are process CPU time (threaded workloads: wall). Lower is better, except per second.",
		cpu, m.CPUs, m.OS, m.Arch, m.GoVersion, rep.Started.Format("2006-01-02"), rep.Config.Runs))

	// The legend: one swatch per allocator, then the C line.
	y := top - vg.Points(44)
	x := left
	label := TextStyle(vg.Points(11))
	label.YAlign = draw.YCenter
	sw := vg.Points(12)
	for _, n := range names {
		c := cols[n]
		dc.FillPolygon(c, []vg.Point{{X: x, Y: y - sw/2}, {X: x + sw, Y: y - sw/2}, {X: x + sw, Y: y + sw/2}, {X: x, Y: y + sw/2}})
		dc.FillText(label, vg.Point{X: x + sw + vg.Points(4), Y: y}, n)
		x += sw + vg.Points(14) + label.Width(n)
	}
	// The C and cgo marks go on a line of their own: with ten allocators
	// the swatches fill the first.
	y -= vg.Points(20)
	x = left
	if rep.Native.Enabled {
		dc.StrokeLine2(cLine, x, y, x+vg.Points(18), y)
		txt := "the same workload in C (line panels: dashed)"
		dc.FillText(label, vg.Point{X: x + vg.Points(24), Y: y}, txt)
		x += vg.Points(40) + label.Width(txt)
	} else if rep.Native.Skipped != "" {
		txt := "(no C figures: " + rep.Native.Skipped + ")"
		dc.FillText(label, vg.Point{X: x, Y: y}, txt)
		x += vg.Points(16) + label.Width(txt)
	}
	if rep.Cgo.Enabled {
		dc.StrokeLine2(cgoLine, x, y, x+vg.Points(18), y)
		dc.FillText(label, vg.Point{X: x + vg.Points(24), Y: y}, "the same Go workload through cgo (line panels: dotted)")
	}
	return vg.Points(100)
}

var (
	cLine   = draw.LineStyle{Color: color.Black, Width: vg.Points(2.2)}
	cgoLine = draw.LineStyle{Color: color.RGBA{200, 0, 0, 255}, Width: vg.Points(1.6), Dashes: []vg.Length{vg.Points(3), vg.Points(2)}}
	whisker = draw.LineStyle{Color: color.Gray{Y: 40}, Width: vg.Points(0.8)}
)

// barPanel draws one metric of one workload as grouped bars, or returns
// nil if the report has no such figures.
func barPanel(rep *Report, names []string, cols map[string]color.Color, ps panelSpec) *plot.Plot {
	rows := panelRows(rep, ps)
	if len(rows) == 0 {
		return nil
	}
	b := &bars{n: len(rows)}
	var groups []string
	for _, r := range rows {
		groups = append(groups, caseLabel(r.Case))
	}
	for _, n := range names {
		s := barSeries{color: cols[n]}
		has := false
		for _, r := range rows {
			v, lo, hi, c, cg := math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()
			for _, cell := range r.Cells {
				if cell.Allocator != n {
					continue
				}
				if cell.Go != nil {
					v, lo, hi = cell.Go.Median/ps.Scale, cell.Go.Min/ps.Scale, cell.Go.Max/ps.Scale
					has = true
				}
				if cell.C != nil {
					c = cell.C.Median / ps.Scale
				}
				if cell.CGO != nil {
					cg = cell.CGO.Median / ps.Scale
				}
			}
			s.v, s.lo, s.hi = append(s.v, v), append(s.lo, lo), append(s.hi, hi)
			s.c, s.cgo = append(s.c, c), append(s.cgo, cg)
		}
		if has {
			s.name = n
			b.series = append(b.series, s)
		}
	}
	if len(b.series) == 0 {
		return nil
	}
	if b.n == 1 {
		// One case: a bar per allocator, named under it.
		b.single = true
		groups = nil
		for _, s := range b.series {
			groups = append(groups, s.name)
		}
	}
	p := plot.New()
	p.Title.Text = ps.Title
	p.Y.Label.Text = ps.YLabel
	lo, hi := b.span()
	if ps.Unit == "s" && hi < 1 {
		b.rescale(1e3)
		lo, hi = lo*1e3, hi*1e3
		p.Y.Label.Text = strings.Replace(p.Y.Label.Text, "seconds", "milliseconds", 1)
	}
	if lo > 0 && hi/lo > 10 {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
		p.Y.Label.Text += " (log scale)"
		b.base = math.Pow(10, math.Floor(math.Log10(lo/2)))
		p.Y.Min, p.Y.Max = b.base, hi*1.6
	} else {
		p.Y.Min, p.Y.Max = 0, hi*1.15
		p.Y.Tick.Marker = niceTicks{}
	}
	p.Add(hgrid(), b)
	p.NominalX(groups...)
	if b.single && len(groups) > 6 {
		// Allocator names side by side would run into each other.
		p.X.Tick.Label.Rotation = math.Pi / 6
		p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	}
	p.X.Min, p.X.Max = -0.5, float64(len(groups))-0.5
	p.X.Label.Text = ps.XLabel
	return p
}

// panelRows are the rows a panel shows: its workload's rows of its
// metric, by case. Where the workload has the metric by case (xmalloc's
// peak RSS by threads), the run's own figure, the case "", is left out.
func panelRows(rep *Report, ps panelSpec) []Row {
	var rows []Row
	for _, wr := range rep.Workloads {
		if wr.Name != ps.workload {
			continue
		}
		for _, r := range wr.Rows {
			if r.Metric == ps.Metric {
				rows = append(rows, r)
			}
		}
	}
	if slices.ContainsFunc(rows, func(r Row) bool { return r.Case != "" }) {
		rows = slices.DeleteFunc(rows, func(r Row) bool { return r.Case == "" })
	}
	return rows
}

// rescale multiplies every figure by f.
func (b *bars) rescale(f float64) {
	for _, s := range b.series {
		for _, vs := range [][]float64{s.v, s.lo, s.hi, s.c, s.cgo} {
			for i := range vs {
				vs[i] *= f
			}
		}
	}
}

// caseLabel turns "size=16B" into "16 B" and "threads=4" into "4".
func caseLabel(c string) string {
	_, v, ok := strings.Cut(c, "=")
	if !ok {
		return c
	}
	if n, ok := strings.CutSuffix(v, "B"); ok {
		return n + " B"
	}
	return v
}

// linePanel draws one metric of a threaded workload against the thread
// count: a line per allocator through nalloc, dashed in C, dotted through
// cgo.
func linePanel(rep *Report, names []string, cols map[string]color.Color, ps panelSpec) *plot.Plot {
	rows := panelRows(rep, ps)
	if len(rows) == 0 {
		return nil
	}
	p := plot.New()
	p.Add(hgrid())
	p.Title.Text = ps.Title
	p.Y.Label.Text = ps.YLabel
	p.X.Label.Text = ps.XLabel
	var labels []string
	for _, r := range rows {
		labels = append(labels, caseLabel(r.Case))
	}
	lo, hi := math.Inf(1), 0.0
	for _, n := range names {
		for _, v := range metric.Vias {
			var xys plotter.XYs
			for i, r := range rows {
				for _, cell := range r.Cells {
					if s := cell.of(v); cell.Allocator == n && s != nil && s.Median > 0 {
						xys = append(xys, plotter.XY{X: float64(i), Y: s.Median / ps.Scale})
						lo, hi = min(lo, s.Median/ps.Scale), max(hi, s.Median/ps.Scale)
					}
				}
			}
			if len(xys) == 0 {
				continue
			}
			l, sc, err := plotter.NewLinePoints(xys)
			if err != nil {
				continue
			}
			l.Color, sc.Color = cols[n], cols[n]
			l.Width = vg.Points(2)
			switch v {
			case metric.ViaC:
				l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
				l.Width = vg.Points(1.5)
			case metric.ViaCgo:
				l.Dashes = []vg.Length{vg.Points(1.5), vg.Points(2)}
				l.Width = vg.Points(1.5)
			}
			p.Add(l, sc)
		}
	}
	if hi == 0 {
		return nil
	}
	p.NominalX(labels...)
	p.X.Min, p.X.Max = -0.3, float64(len(rows))-0.7
	if hi/lo > 10 {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
		p.Y.Label.Text += " (log scale)"
		p.Y.Min, p.Y.Max = math.Pow(10, math.Floor(math.Log10(lo))), hi*1.6
	} else {
		p.Y.Min, p.Y.Max = 0, hi*1.15
		p.Y.Tick.Marker = niceTicks{}
	}
	return p
}

// hgrid is a grid of horizontal lines only, to draw under the data.
func hgrid() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical.Color = nil
	return g
}

// logTicks labels a log axis at powers of ten, and at 2 and 5 times them
// too when the axis spans less than three decades (plot.LogTicks labels
// only the powers, which can leave a short axis with one label).
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	few := hi/lo < 1000
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		d := math.Pow(10, e)
		for m := 1.0; m < 10; m++ {
			v := m * d
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || few && (m == 2 || m == 5) {
				t.Label = strconv.FormatFloat(v, 'f', max(0, -int(e)), 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// niceTicks labels a linear axis from its minimum at steps of 1, 2 or 5
// times a power of ten, about five of them, with the decimals the step
// needs.
type niceTicks struct{}

func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return nil
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{2, 5, 10} {
		if step >= raw {
			break
		}
		step = m * mag
	}
	prec := max(0, -int(math.Floor(math.Log10(step))))
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+step/1e6; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', prec, 64)})
		for k := 1; k < 5; k++ {
			if minor := v + float64(k)*step/5; minor <= hi {
				ticks = append(ticks, plot.Tick{Value: minor})
			}
		}
	}
	return ticks
}

// bars is a plot.Plotter of grouped bars that, unlike plotter.BarChart,
// starts its bars at the axis minimum, so it works on a log scale.
type bars struct {
	n      int // groups, at x = 0, 1, ...
	series []barSeries
	base   float64 // where bars start
	// single: one group, drawn as one bar per series at x = 0, 1, ...,
	// each with its value above it.
	single bool
}

type barSeries struct {
	name              string
	color             color.Color
	v, lo, hi, c, cgo []float64 // per group; NaN where there is none
}

func (b *bars) span() (lo, hi float64) {
	lo, hi = math.Inf(1), 0
	for _, s := range b.series {
		for _, vs := range [][]float64{s.v, s.lo, s.hi, s.c, s.cgo} {
			for _, v := range vs {
				if v > 0 {
					lo, hi = min(lo, v), max(hi, v)
				}
			}
		}
	}
	if hi == 0 {
		return 0, 1
	}
	return lo, hi
}

func (b *bars) DataRange() (xmin, xmax, ymin, ymax float64) {
	lo, hi := b.span()
	n := b.n
	if b.single {
		n = len(b.series)
	}
	return -0.5, float64(n) - 0.5, min(lo, b.base), hi
}

func (b *bars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	width := 0.8 / float64(len(b.series))
	label := TextStyle(vg.Points(9))
	label.XAlign, label.YAlign = draw.XCenter, draw.YBottom
	for j, s := range b.series {
		for i := range b.n {
			x0 := float64(i) - 0.4 + float64(j)*width
			x1 := x0 + width*0.88
			if b.single {
				x0, x1 = float64(j)-0.3, float64(j)+0.3
			}
			l, r := trX(x0), trX(x1)
			if v := s.v[i]; !math.IsNaN(v) && v > 0 {
				bot, top := trY(b.base), trY(v)
				c.FillPolygon(s.color, []vg.Point{{X: l, Y: bot}, {X: r, Y: bot}, {X: r, Y: top}, {X: l, Y: top}})
				if s.lo[i] > 0 && s.hi[i] > s.lo[i] {
					mid := (l + r) / 2
					c.StrokeLine2(whisker, mid, trY(s.lo[i]), mid, trY(s.hi[i]))
				}
				if b.single {
					c.FillText(label, vg.Point{X: (l+r)/2 + vg.Points(2), Y: top + vg.Points(3)}, metric.Sig3(v))
				}
			}
			if cv := s.c[i]; !math.IsNaN(cv) && cv > 0 {
				c.StrokeLine2(cLine, l-vg.Points(1), trY(cv), r+vg.Points(1), trY(cv))
			}
			if cv := s.cgo[i]; !math.IsNaN(cv) && cv > 0 {
				c.StrokeLine2(cgoLine, l-vg.Points(1), trY(cv), r+vg.Points(1), trY(cv))
			}
		}
	}
}
