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

// job is one run of one workload on one allocator, in Go or in C.
type job struct {
	w     *workload
	alloc string
	run   int
	c     bool
}

func (j job) String() string {
	via := ""
	if j.c {
		via = " in C"
	}
	return fmt.Sprintf("%s on %s%s", j.w.name, j.alloc, via)
}

// plan orders the runs: run by run, workload by workload, every allocator
// (and its C twin right after it) within, starting each run from a
// different allocator, so that slow drifts of a shared machine spread over
// all of them instead of favouring whoever comes first.
func plan(cfg *config, loaded []string, withC map[string]nativeRecipe) []job {
	var jobs []job
	for r := range cfg.Runs {
		for _, w := range cfg.Workloads {
			for i := range loaded {
				a := loaded[(i+r)%len(loaded)]
				jobs = append(jobs, job{w: w, alloc: a, run: r})
				if _, ok := withC[a]; ok && w.cArgs != nil {
					jobs = append(jobs, job{w: w, alloc: a, run: r, c: true})
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
	childTimeout = cfg.Timeout
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

	// Which allocators load: each tried in a child, as the runs will be.
	var loaded []string
	for _, name := range cfg.Allocators {
		prog.show("loading " + name)
		st := AllocatorStatus{Name: name}
		res, err := runGoChild(ctx, childSpec{Allocator: name})
		if err != nil {
			st.Error = strings.TrimPrefix(oneLine(err), errNoOpen.Error()+": ")
		} else {
			st.Loaded, st.Info = true, res.info
			loaded = append(loaded, name)
		}
		rep.Allocators = append(rep.Allocators, st)
	}
	if len(loaded) == 0 {
		prog.done()
		for _, a := range rep.Allocators {
			fmt.Fprintf(stderr, "skipped %s: %s\n", a.Name, a.Error)
		}
		fmt.Fprintln(stderr, "bench: no allocator loaded; nothing to compare")
		return 1
	}

	// The native column.
	var side nativeSide
	withC := map[string]nativeRecipe{}
	if cfg.Native {
		prog.show("compiling the C workloads")
		dir, err := os.MkdirTemp("", "nalloc-bench-")
		if err != nil {
			side.skipped = "no temporary directory for the C program: " + err.Error()
		} else {
			defer os.RemoveAll(dir)
			side = buildNative(ctx, dir)
		}
		rep.Native = NativeStatus{Enabled: side.bin != "", Compiler: side.compiler, Skipped: side.skipped}
		for _, st := range rep.Allocators {
			if r, ok := nativeRecipes[st.Name]; ok && st.Loaded && side.bin != "" {
				if lib := st.Info["library"]; lib != "" {
					r.Library = lib // the library the backend itself loaded
				}
				withC[st.Name] = r
			}
		}
	} else {
		rep.Native.Skipped = "turned off with -no-native"
	}

	jobs := plan(cfg, loaded, withC)
	cells := map[cellKey]*cellData{}
	eta := newETA()
	interrupted := false
	for i, j := range jobs {
		if ctx.Err() != nil {
			interrupted = true
			rep.Notes = append(rep.Notes, fmt.Sprintf("interrupted after %d of %d runs: the figures are partial", i, len(jobs)))
			break
		}
		key := cellKey{j.w.name, j.alloc}
		d := cells[key]
		if d == nil {
			d = newCellData()
			cells[key] = d
		}
		if d.na != "" || (!j.c && d.goErr != "") || (j.c && d.cErr != "") {
			continue // it failed or does not apply: once is enough
		}
		prog.show(fmt.Sprintf("[%d/%d] run %d/%d: %s%s", i+1, len(jobs), j.run+1, cfg.Runs, j, eta.left(jobs[i:])))
		var res childResult
		var err error
		if j.c {
			res, err = side.run(ctx, withC[j.alloc], j.w, cfg.Params)
		} else {
			res, err = runGoChild(ctx, childSpec{Allocator: j.alloc, Workload: j.w.name, Params: cfg.Params})
		}
		eta.record(j, res.took)
		switch {
		case err != nil && ctx.Err() != nil:
			// interrupted: reported at the top of the loop
		case err != nil && j.c:
			d.cErr = oneLine(err)
		case err != nil:
			d.goErr = oneLine(err)
		case res.na != "":
			d.na = res.na
		default:
			runs, errp := d.goRuns, &d.goErr
			if j.c {
				runs, errp = d.cRuns, &d.cErr
			}
			for _, v := range res.values {
				if metrics[v.Metric] == nil {
					*errp = fmt.Sprintf("reported an unknown metric %q", v.Metric)
					break
				}
				runs[v.rowKey] = append(runs[v.rowKey], v.V)
			}
		}
	}
	prog.done()

	rep.Workloads = buildWorkloads(cfg, loaded, cells)
	rep.Rankings = append([]RankingCheck{}, checkRankings(rep.Workloads)...) // [] in JSON, not null
	rep.Notes = append(rep.Notes, rankingNotes(rep)...)
	rep.Notes = append(rep.Notes, contextNotes(cfg, rep)...)
	rep.Seconds = time.Since(t0).Seconds()

	// The table carries the skipped allocators and the failures; the
	// machine-readable formats keep stdout clean, so they go to stderr.
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
	switch {
	case interrupted:
		return 130
	case failed:
		return 1
	}
	return 0
}

// contextNotes are what a reader needs to read the figures right.
func contextNotes(cfg *config, rep *Report) []string {
	var notes []string
	for _, w := range cfg.Workloads {
		if w.name == "glibc-thread" && cfg.Params.ThreadCounts[len(cfg.Params.ThreadCounts)-1] > rep.Machine.CPUs {
			notes = append(notes, fmt.Sprintf("glibc-thread: this machine has %d CPUs; beyond that, more threads measure contention and scheduling, not parallel speed-up",
				rep.Machine.CPUs))
		}
		if w.name == "gc-pressure" {
			notes = append(notes, fmt.Sprintf("gc-pressure: %s live in %s blocks, then %s of short-lived Go allocations; "+
				"on \"go\" the live set is a [][]byte, as a program without nalloc would hold it, and the GC paces on it "+
				"(so it does on a bump arena's chunks, which come from the Go heap); off the Go heap, the heap the GC paces on is small, "+
				"so it runs more often, on less; GOGC=%s, GOMEMLIMIT=%s",
				formatBytes(float64(cfg.Params.GCLive)), formatBytes(float64(cfg.Params.GCBlock)),
				formatBytes(float64(cfg.Params.GCStream)), orDefault(os.Getenv("GOGC"), "100"), orDefault(os.Getenv("GOMEMLIMIT"), "off")))
		}
		if w.name == "gc-pressure-paced" {
			notes = append(notes, "gc-pressure-paced: the same under nalloc.StartGCPacer(), which counts the process's "+
				"resident memory outside the Go runtime as live heap for GOGC (and takes it off GOMEMLIMIT): "+
				"the Go heap grows into the headroom the set would have given it on the heap, so cycles and peak RSS "+
				"come near go's in gc-pressure")
		}
	}
	for _, a := range rep.Allocators {
		if a.Name == "go" && a.Loaded {
			notes = append(notes, "go is nalloc's GoHeap: each block is a Go byte slice that it keeps in a table until "+
				"Deallocate, so its figures include that table (a lock, a map insert and delete per block); "+
				"a bare make([]byte, 64) costs about a quarter of its glibc-simple figure")
		}
		if a.Info["arena"] != "" {
			notes = append(notes, fmt.Sprintf("%s is an arena (it has Reset): glibc-simple and glibc-thread Reset it at the end of each cycle, "+
				"arena-boxes once per round instead of freeing the boxes; malloc-large does not apply", a.Name))
		}
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
