// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// job is one run of one workload on one allocator, by one way.
type job struct {
	w   *workload
	c   *column
	run int
	via via
}

func (j job) String() string {
	switch j.via {
	case viaC:
		return j.w.name + " on " + j.c.Name + " in C"
	case viaCgo:
		return j.w.name + " on " + j.c.Name + " through cgo"
	}
	return j.w.name + " on " + j.c.Name
}

// column is a contender that loaded, and what its native library is
// measured through besides nalloc.
type column struct {
	contender
	library string // the library the C and cgo sides load: what the backend loaded
	c, cgo  bool   // it has a C figure, a cgo figure
}

// plan orders the runs: run by run, workload by workload, every allocator
// (and its cgo and C twins right after it) within, starting each run from
// a different allocator, so that slow drifts of a shared machine spread
// over all of them instead of favouring whoever comes first.
func plan(cfg *config, cols []*column) []job {
	var jobs []job
	for r := range cfg.Runs {
		for _, w := range cfg.Workloads {
			for i := range cols {
				c := cols[(i+r)%len(cols)]
				jobs = append(jobs, job{w: w, c: c, run: r, via: viaGo})
				if w.cArgs == nil {
					continue
				}
				if c.cgo {
					jobs = append(jobs, job{w: w, c: c, run: r, via: viaCgo})
				}
				if c.c {
					jobs = append(jobs, job{w: w, c: c, run: r, via: viaC})
				}
			}
		}
	}
	return jobs
}

// shootout runs the shoot-out that cfg describes and writes the report
// to stdout. It returns the exit status: 0, 1 if a run failed or no
// allocator loaded, 130 if interrupted.
func shootout(ctx context.Context, cfg *config, stdout, stderr io.Writer) int {
	t0 := time.Now()
	rep := &Report{
		Notes:   []string{},
		Schema:  schemaVersion,
		Started: t0.UTC().Truncate(time.Second),
		Machine: machine(),
		Config:  ReportConfig{Runs: cfg.Runs, Quick: cfg.Quick, Threads: cfg.Threads, Native: cfg.Native, Params: cfg.Params},
	}
	if rep.Machine.Emulated != "" {
		fmt.Fprintln(stderr, rep.Machine.Emulated) // whatever the -format
	}
	prog := newProgress(stderr)
	defer prog.done()
	r := &runner{timeout: cfg.Timeout}

	cols := loadAllocators(ctx, cfg, r, rep, prog)
	if len(cols) == 0 {
		prog.done()
		for _, a := range rep.Allocators {
			fmt.Fprintf(stderr, "skipped %s: %s\n", a.Name, a.Error)
		}
		fmt.Fprintln(stderr, "bench: no allocator loaded; nothing to compare")
		return 1
	}
	if cfg.Native {
		prog.show("compiling the C workloads")
		dir, err := os.MkdirTemp("", "nalloc-bench-")
		if err != nil {
			r.c.skipped = "no temporary directory for the C program: " + err.Error()
		} else {
			defer os.RemoveAll(dir)
			r.c = buildNative(ctx, dir)
		}
		rep.Native = NativeStatus{Enabled: r.c.bin != "", Compiler: r.c.compiler, Skipped: r.c.skipped}
	} else {
		rep.Native.Skipped = "turned off with -no-native"
	}
	rep.Cgo = CgoStatus{Enabled: cgoBuilt}
	if !cgoBuilt {
		rep.Cgo.Skipped = errNoCgo.Error()
	}
	for _, c := range cols {
		c.c = c.Native != nil && rep.Native.Enabled
		c.cgo = c.Native != nil && rep.Cgo.Enabled
	}

	cells, interrupted := runJobs(ctx, cfg, r, plan(cfg, cols), prog)
	if interrupted != "" {
		rep.Notes = append(rep.Notes, interrupted)
	}
	prog.done()

	var names []string
	for _, c := range cols {
		names = append(names, c.Name)
	}
	rep.Workloads = buildWorkloads(cfg, names, cells)
	rep.Rankings = append([]RankingCheck{}, checkRankings(rep.Workloads)...) // [] in JSON, not null
	rep.Notes = append(rep.Notes, rankingNotes(rep)...)
	rep.Notes = append(rep.Notes, contextNotes(cfg, rep)...)
	rep.Seconds = time.Since(t0).Seconds()

	code := writeOutputs(cfg, rep, stdout, stderr)
	if interrupted != "" {
		return 130
	}
	return code
}

// loadAllocators tries each allocator in a child, as the runs will open
// it, and records in rep which loaded and why the others did not.
func loadAllocators(ctx context.Context, cfg *config, r *runner, rep *Report, prog *progress) []*column {
	var cols []*column
	for _, c := range cfg.Allocators {
		prog.show("loading " + c.Name)
		st := AllocatorStatus{Name: c.Name, Path: c.Library}
		if c.Native != nil {
			st.Backend = c.Native.Name
		}
		res, err := r.goChild(ctx, c.childSpec(viaGo, ""))
		if err != nil {
			st.Error = strings.TrimPrefix(oneLine(err), errNoOpen.Error()+": ")
		} else {
			st.Loaded, st.Info = true, res.info
			col := &column{contender: c, library: c.Library}
			if lib := res.info["library"]; lib != "" {
				col.library = lib // the library the backend itself loaded
			}
			if col.library == "" && c.Native != nil {
				col.library = c.Native.Sonames[0]
			}
			cols = append(cols, col)
		}
		rep.Allocators = append(rep.Allocators, st)
	}
	return cols
}

// runJobs runs the jobs in order, each in a child, and gathers their
// figures. A cell that failed, or does not apply, is not run again. If
// ctx ends first, it stops and says so in the returned note.
func runJobs(ctx context.Context, cfg *config, r *runner, jobs []job, prog *progress) (map[cellKey]*cellData, string) {
	cells := map[cellKey]*cellData{}
	eta := newETA()
	for i, j := range jobs {
		if ctx.Err() != nil {
			return cells, fmt.Sprintf("interrupted after %d of %d runs: the figures are partial", i, len(jobs))
		}
		key := cellKey{j.w.name, j.c.Name}
		d := cells[key]
		if d == nil {
			d = newCellData()
			cells[key] = d
		}
		if d.na != "" || d.errs[j.via] != "" {
			continue // it failed or does not apply: once is enough
		}
		prog.show(fmt.Sprintf("[%d/%d] run %d/%d: %s%s", i+1, len(jobs), j.run+1, cfg.Runs, j, eta.left(jobs[i:])))
		var res childResult
		var err error
		if j.via == viaC {
			res, err = r.cChild(ctx, j.c.library, j.c.Native.Pair, j.w, &cfg.Params)
		} else {
			spec := j.c.childSpec(j.via, j.c.library)
			spec.Workload, spec.Params = j.w.name, cfg.Params
			res, err = r.goChild(ctx, spec)
		}
		eta.record(j, res.took)
		switch {
		case err != nil && ctx.Err() != nil:
			// interrupted: reported at the top of the loop
		case err != nil:
			d.errs[j.via] = oneLine(err)
		case res.na != "":
			d.na = res.na
		default:
			for _, v := range res.values {
				if metrics[v.Metric] == nil {
					d.errs[j.via] = fmt.Sprintf("reported an unknown metric %q", v.Metric)
					break
				}
				d.runs[j.via][v.rowKey] = append(d.runs[j.via][v.rowKey], v.V)
			}
		}
	}
	if ctx.Err() != nil {
		return cells, "interrupted during the last run: the figures are partial"
	}
	return cells, ""
}

// writeOutputs writes the report in the format asked for, and the chart.
// The table carries the skipped allocators and the failures; the
// machine-readable formats keep stdout clean, so they go to stderr. It
// returns 1 if a run failed or the output could not be written.
func writeOutputs(cfg *config, rep *Report, stdout, stderr io.Writer) int {
	failed := false
	for _, wr := range rep.Workloads {
		for _, k := range sortedKeys(wr.Errors) {
			failed = true
			if cfg.Format != "table" {
				fmt.Fprintf(stderr, "error %s on %s: %s\n", wr.Name, k, wr.Errors[k])
			}
		}
	}
	if cfg.Format != "table" {
		for _, a := range rep.Allocators {
			if !a.Loaded {
				fmt.Fprintf(stderr, "skipped %s: %s\n", a.Name, a.Error)
			}
		}
	}
	if err := write(stdout, cfg.Format, rep); err != nil {
		fmt.Fprintf(stderr, "bench: writing the report: %v\n", err)
		return 1
	}
	if cfg.Chart != "" {
		if err := drawChart(rep, cfg.Chart); err != nil {
			fmt.Fprintf(stderr, "bench: -chart: %v\n", err)
			return 1
		}
		if cfg.Format == "table" {
			fmt.Fprintf(stdout, "chart: %s\n", cfg.Chart)
		}
	}
	if failed {
		return 1
	}
	return 0
}

// contextNotes are what a reader needs to read the figures right.
func contextNotes(cfg *config, rep *Report) []string {
	var notes []string
	threaded := false
	for _, w := range cfg.Workloads {
		switch w.name {
		case glibcThread.name, mallocThread.name, xmalloc.name, larson.name:
			threaded = true
		case gcPressure.name:
			notes = append(notes, fmt.Sprintf("gc-pressure: %s live in %s blocks, then %s of short-lived Go allocations; "+
				"on make the live set is a [][]byte, as a program without nalloc would hold it, and the GC paces on it "+
				"(so it does on the go allocator's blocks and on a bump arena's chunks, which are Go memory); off the Go heap, "+
				"the heap the GC paces on is small, so it runs more often, on less; GOGC=%s, GOMEMLIMIT=%s",
				formatBytes(float64(cfg.Params.GCLive)), formatBytes(float64(cfg.Params.GCBlock)),
				formatBytes(float64(cfg.Params.GCStream)), orDefault(os.Getenv("GOGC"), "100"), orDefault(os.Getenv("GOMEMLIMIT"), "off")))
		}
		if w.name == gcPressurePaced.name {
			notes = append(notes, "gc-pressure-paced: the same under nalloc.StartGCPacer(), which counts the process's "+
				"resident memory outside the Go runtime as live heap for GOGC (and takes it off GOMEMLIMIT): "+
				"the Go heap grows into the headroom the set would have given it on the heap, so cycles and peak RSS "+
				"come near make's in gc-pressure")
		}
	}
	if threaded && cfg.Threads > rep.Machine.CPUs {
		notes = append(notes, fmt.Sprintf("threads: this machine has %d CPUs; beyond that, more threads measure contention and scheduling, not parallel speed-up",
			rep.Machine.CPUs))
	}
	for _, a := range rep.Allocators {
		if !a.Loaded {
			continue
		}
		switch a.Name {
		case makeName:
			notes = append(notes, "make is the idiomatic Go program: make([]byte, n) for each block, nothing on free, "+
				"the garbage collector collects once the workload drops its pointer (its times include the GC's)")
		case "go":
			notes = append(notes, "go is nalloc's GoHeap: each block is a Go byte slice that it keeps in a table until "+
				"Deallocate, so its figures are make's plus that table (a lock, a map insert and delete per block)")
		case moderncName:
			notes = append(notes, "modernc is modernc.org/memory, one allocator shared behind a mutex, as modernc.org/libc "+
				"(under modernc's sqlite) shares it")
		}
		if a.Info["arena"] != "" {
			notes = append(notes, fmt.Sprintf("%s is an arena (it has Reset): glibc-simple and glibc-thread Reset it at the end of each cycle, "+
				"arena-boxes once per round instead of freeing the boxes; malloc-large, malloc-thread, xmalloc and larson do not apply", a.Name))
		}
	}
	if rep.Cgo.Enabled {
		notes = append(notes, "cgo: the same Go workload calling each native library's pair through cgo (one cgo call per "+
			"allocate and per free, the library dlopen'ed with RTLD_LOCAL); xcgo is its cost over C's, beside xC")
	} else if rep.Cgo.Skipped != "" {
		notes = append(notes, "no cgo column: "+rep.Cgo.Skipped)
	}
	var below []string
	for _, wr := range rep.Workloads {
		for _, row := range wr.Rows {
			for _, c := range row.Cells {
				if c.XC > 0 && c.XC < 0.9 {
					where := wr.Name + " " + row.Label
					if row.Case != "" {
						where = wr.Name + " " + row.Case
					}
					below = append(below, where+" on "+c.Allocator)
				}
			}
		}
	}
	if len(below) > 0 {
		notes = append(notes, fmt.Sprintf("xC under 1 (%s): there the crossing is not what dominates. At 128 and 256 B glibc "+
			"gives its heap top back to the OS at the end of every cycle (M_TRIM_THRESHOLD, 128 KiB) and faults it back in "+
			"the next (see minor faults); with more threads than CPUs the scheduler decides. Such costs vary more between "+
			"processes and moments than the crossing does: read xC under 1 as their noise, not as a gain",
			strings.Join(below, "; ")))
	}
	if cfg.Quick {
		notes = append(notes, "-quick: fewer runs, rounds and steps, and a smaller live set; a smoke run, not figures to quote")
	}
	return notes
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// eta estimates the time left from how long each kind of run took last.
type eta struct {
	last map[string]time.Duration
	sum  time.Duration
	n    int
}

func newETA() *eta { return &eta{last: map[string]time.Duration{}} }

func (e *eta) record(j job, d time.Duration) {
	e.last[j.String()] = d
	e.sum += d
	e.n++
}

func (e *eta) left(rest []job) string {
	if e.n == 0 {
		return ""
	}
	var t time.Duration
	for _, j := range rest {
		if d, ok := e.last[j.String()]; ok {
			t += d
		} else {
			t += e.sum / time.Duration(e.n)
		}
	}
	return fmt.Sprintf(" (about %s left)", fmtDuration(t.Seconds()))
}
