// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Command bench is nalloc's shoot-out: it runs every workload on every
// allocator that loads, runs the same workloads in C against each native
// library, and says which allocator wins which workload on this machine
// and what crossing from Go costs.
//
//	go run ./bench                          # from the repository root
//	go run ./bench -quick                   # a smoke run of seconds
//	go run ./bench -format json > out.json  # or csv, benchstat
//	go run ./bench -chart shootout.png      # or .svg
//
// An allocator that does not load (a library not installed, a backend
// package not linked in) is skipped with one line that says why and how to
// fix it. go run ./bench -h lists the flags.
//
// go run ./bench probe is the mmap/brk laboratory: for one allocator it
// allocates, touches, frees and optionally trims blocks of given sizes,
// and prints what each stage did to the program break, the anonymous
// mappings, RSS and page faults, with the allocator's knobs settable from
// flags (-mallopt, -mallctl, -malloc-conf, -mi-option). go run ./bench
// probe -h lists its flags.
//
// # Workloads
//
// Every block has an alignment of 8 and goes through the nalloc.Allocator
// interface (Allocate, Deallocate), as a program would use it.
//
//   - glibc-simple: 1600 blocks of S bytes (S = 16, 32, 64, 128, 256),
//     byte j of each written as byte(j); the first 800 freed in allocation
//     order, the other 800 from last to first. Nanoseconds per
//     allocate+free pair.
//   - glibc-thread: the same cycle at 128 B on N goroutines, each locked to
//     its OS thread with its own nalloc.Open of the allocator, N = 1, 2, 4,
//     ... up to -threads. Pairs per second over all threads, and the
//     scaling against N = 1 within the same run.
//   - malloc-large: 20 slots, 1000 steps; each step picks a slot and a size
//     uniform in [5 MiB, 25 MiB] from math/rand/v2's ChaCha8 seeded with 42
//     (in the first 8 bytes, little-endian), frees what the slot held and
//     allocates the new block; -touch writes one byte per page of it.
//     Microseconds per step.
//   - arena-boxes: 1000 boxes of 64 B, each written, freed together,
//     10 000 times. An allocator with a Reset method (the bump arena) is
//     Reset once per round instead of freeing each box. Nanoseconds per box.
//   - gc-pressure: a live set (-gc-live, default 1 GiB) of 1 KiB blocks,
//     written, held in the allocator's memory (for "go", the baseline, in
//     a [][]byte of Go-heap blocks, as a program without nalloc would hold
//     it), while the program allocates twice that in
//     short-lived Go objects. GC cycles, GC CPU seconds
//     (/cpu/classes/gc/total:cpu-seconds) and the p99 GC pause
//     (/sched/pauses/total/gc:seconds) during that stream, and the CPU
//     time to build the live set and to run the stream.
//   - gc-pressure-paced: gc-pressure under nalloc.StartGCPacer, started
//     with its defaults once the live set is built, so that the
//     collector's goal counts the off-heap set as GOGC would count it on
//     the heap. Native allocators only: for "go" and the bump arena the
//     set is Go heap already.
//
// An arena is also Reset at the end of each glibc-simple and glibc-thread
// cycle (its Deallocate reclaims nothing), and malloc-large does not apply
// to it.
//
// Every workload also reports the peak RSS and minor page faults of its
// process, and the allocator's nalloc.Stats, where it has them: while it
// holds its blocks ("held") and after it freed them ("after").
//
// # How it measures
//
// Times are the CPU time of the run's process (CLOCK_PROCESS_CPUTIME_ID:
// user and system, every thread, the garbage collector's included), on
// both the Go and the C side, so that other load on the machine does not
// count while everything the run itself spends does; glibc-thread, whose
// point is how throughput scales with threads, is timed by the wall clock.
//
// Each run of a workload on an allocator is a process of its own (this
// binary, re-executed), so that RSS, faults and the garbage collector's
// state belong to that run alone; runs of different allocators interleave.
// Every figure is the median of -runs runs (default 5), with the fastest
// and slowest beside it. The table marks the best median of each row.
//
// The native column compiles shootout.c (embedded) with the system C
// compiler ($CC, default cc) into a temporary directory, and runs the same
// workloads, with the same sizes, orders, writes and random steps, against
// each native library through dlopen and dlsym, calling the functions the
// nalloc backend calls (malloc/free, mallocx/sdallocx, mi_malloc/mi_free).
// xC is the Go figure's cost over the C figure's: 2.0 means the workload
// costs twice as much through nalloc. The C program starts and joins a
// thread before it measures anything: a Go process is always
// multi-threaded, and glibc's malloc skips its atomics and arena locking
// in a process that never was, which would make the C side measure a
// glibc no Go program can have. Where two native allocators differ
// by more than 10% in C, the shoot-out checks that their order through
// nalloc is the same, and says so in a note when it is not. Without a C
// compiler the column is skipped with a note.
//
// Every child, Go or C, starts with
// GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384, which lets Debian's
// libjemalloc.so.2 be loaded after start; the user sets nothing.
//
// # Output formats
//
// -format table (default): per workload, a row per figure and a column per
// allocator. -format csv: one line per row and allocator, with the columns
// workload, case, metric, unit, better, allocator, go_median, go_min,
// go_max, c_median, c_min, c_max, xc, winner, runs. -format benchstat: one
// line per run in Go's benchmark format, named
// BenchmarkGlibcSimple/size=16B/impl=glibc/via=go (or via=c), for
// benchstat -col /impl or -col /via.
//
// -format json prints one object, schema "nalloc-bench/v1". Within a
// version, fields are only added, never renamed or removed:
//
//	{
//	  "schema": "nalloc-bench/v1",
//	  "started": RFC 3339 time (UTC), "seconds": wall time of the shoot-out,
//	  "machine": {"os", "arch", "cpu", "cpus", "kernel", "go_version",
//	              "cgo_enabled", "build_tags"},
//	  "config": {"runs", "quick", "threads", "native",
//	             "params": {"simple_sizes", "simple_reps", "thread_size",
//	                        "thread_counts", "thread_reps", "large_slots",
//	                        "large_steps", "large_min", "large_max",
//	                        "large_seed", "large_touch", "box_rounds", "boxes",
//	                        "box_size", "gc_live", "gc_block", "gc_stream"}},
//	  "allocators": [{"name", "loaded", "error"?, "info"?: {"type",
//	                  "library"?, "version"?}}],
//	  "native": {"enabled", "compiler"?, "skipped"?},
//	  "workloads": [{
//	    "name", "description",
//	    "rows": [{"case", "metric", "label", "unit", "better"?,
//	              "cells": [{"allocator", "go"?: summary, "c"?: summary,
//	                         "xc"?}],
//	              "winners"?: [allocator]}],
//	    "not_applicable"?: {allocator: why},
//	    "errors"?: {allocator or "allocator (C)": error}}],
//	  "ranking_checks": [{"workload", "case", "metric", "faster_in_c",
//	                      "slower_in_c", "c_gap", "agrees"}],
//	  "notes": [string]
//	}
//
// where a summary is {"median", "min", "max", "runs": [every run, in
// order]}, "case" is "size=16B", "threads=4" or "" (the whole workload),
// and "unit" is one of ns, us, s, B, 1/s (per second), count, x (a ratio).
// "better" is lower or higher, or absent for figures no one wins (the
// allocator's Stats). The metric IDs: ns_per_pair, pairs_per_sec, scaling,
// us_per_step, ns_per_box, build_seconds, stream_seconds, gc_cycles,
// gc_cpu_seconds, gc_pause_p99_seconds, peak_rss, minor_faults, and
// stats_held_FIELD, stats_after_FIELD for the nalloc.Stats fields
// allocated, active, resident, mapped, retained, metadata. Fields marked ?
// may be absent.
//
// # Exit status
//
// 0 when every run succeeded (skipped allocators are not failures); 1 when
// a run failed or no allocator loaded; 2 for a bad command line; 130 when
// interrupted, after printing what was measured.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	_ "github.com/nalloc/nalloc/all" // every backend registers itself
	"github.com/nalloc/nalloc/jemalloc"
	"github.com/nalloc/nalloc/tcmalloc"
)

func main() {
	setupProcess()
	if spec, ok := os.LookupEnv(childEnv); ok {
		os.Exit(childMain(spec, os.Stdout, os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// setupProcess runs first in every process of the command: the parent,
// each child, and the test binary (TestMain). It makes jemalloc and
// TCMalloc loadable in this process (jemalloc.Reexec re-executes it once
// with the static-TLS tunable, if it started without; on linux/arm64
// tcmalloc.Reexec once with the library preloaded), for the probe
// subcommand and anything else that opens them in process. Its errors are
// not fatal: a missing library, or one that still will not load, is
// reported by the shoot-out per allocator, with the fix; the shoot-out's
// children get the tunable from childEnviron whatever happens here, and
// re-execute themselves for TCMalloc.
func setupProcess() { _ = jemalloc.Reexec(); _ = tcmalloc.Reexec() }

// commands are the subcommands, by name; the shoot-out runs when the first
// argument is not one of them. The mmap/brk laboratory ("probe") adds
// itself here.
var commands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) int{}

// run is the command with its arguments (without the program name); it
// returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		if cmd, ok := commands[args[0]]; ok {
			return cmd(ctx, args[1:], stdout, stderr)
		}
		known := "none"
		if len(commands) > 0 {
			var names []string
			for n := range commands {
				names = append(names, n)
			}
			slices.Sort(names)
			known = strings.Join(names, ", ")
		}
		fmt.Fprintf(stderr, "bench: unknown command %q (commands: %s); the shoot-out itself takes only flags: go run ./bench -h\n", args[0], known)
		return 2
	}
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\nrun 'go run ./bench -h' for the flags\n", err)
		return 2
	}
	return shootout(ctx, cfg, stdout, stderr)
}
