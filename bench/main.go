// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Command bench is nalloc's shoot-out: it runs every workload on every
// allocator that loads, beside what a Go program uses without nalloc (the
// peers), runs the same workloads in C and through cgo against each
// native library, and says which allocator wins which workload on this
// machine and what crossing from Go costs.
//
//	go run ./bench                          # from the repository root
//	go run ./bench -quick                   # a smoke run of seconds
//	go run ./bench -format json > out.json  # or csv, benchstat
//	go run ./bench -chart shootout.png      # or .svg
//	go run ./bench -library mimalloc=/opt/mimalloc/lib/libmimalloc.so
//	go run ./bench -from out.json -chart shootout.svg  # redraw, measure nothing
//
// An allocator that does not load (a library not installed, a backend
// package not linked in) is skipped with one line that says why and how to
// fix it. go run ./bench -h lists the flags.
//
// go run ./bench probe is the mmap/brk laboratory: for one allocator it
// allocates, touches, frees and optionally gives memory back (-trim,
// through the allocator's Purge), and prints what each stage did to the
// program break, the anonymous mappings, RSS and page faults, with the
// allocator's settings changed through its Tune (-set name=value) or its
// environment (-env NAME=value). go run ./bench probe -h lists its flags.
//
// # Allocators
//
// The columns are every registered allocator (nalloc.Names, with every
// backend linked in through github.com/nalloc/nalloc/all), in this order:
//
//   - make: the idiomatic Go program, make([]byte, n) for each block and
//     nothing on free: the garbage collector collects once the workload
//     drops its pointer.
//   - the Go allocators and peers: bump (nalloc's arena), go (nalloc's
//     GoHeap, which keeps each block in a table until Deallocate, as the
//     Allocator contract asks), modernc (modernc.org/memory, the pure-Go
//     mmap allocator, one instance shared behind a mutex as modernc.org/libc
//     shares it).
//   - the native backends, sorted; each with two more figures: via cgo,
//     the same Go workload calling the library through cgo (dlopen'ed with
//     RTLD_LOCAL, one cgo call per allocate and per free), and in C, the
//     workload in C against the library. Both call the pair of functions the
//     backend calls for a small block (malloc/free for glibc and
//     jemalloc, mi_malloc/mi_free, tc_malloc/tc_free, scalable_malloc/
//     scalable_free), as the backend declares them (native.Spec.Pair).
//   - -library backend=path columns: a library of the user's measured under
//     a backend that knows its functions (backend@file), through nalloc,
//     cgo and C alike, as mimalloc-bench measures external allocators.
//
// # Workloads
//
// Every block has an alignment of 8 and goes through the nalloc.Allocator
// interface (Allocate, Deallocate), as a program would use it. Each
// workload is a file of its own in internal/workload, which registers
// it, with its C twin in internal/workload/csrc.
//
//   - glibc-simple: 1600 blocks of S bytes (S = 16, 32, 64, 128, 256),
//     byte j of each written as byte(j); the first 800 freed in allocation
//     order, the other 800 from last to first. Nanoseconds per
//     allocate+free pair.
//   - glibc-thread: the same cycle at 128 B on N goroutines, each locked to
//     its OS thread with its own handle on the allocator, N = 1, 2, 4, ...
//     up to -threads. Pairs per second over all threads, and the scaling
//     against N = 1 within the same run.
//   - malloc-large: 20 slots, 1000 steps; each step picks a slot and a size
//     uniform in [5 MiB, 25 MiB] from math/rand/v2's ChaCha8 seeded with 42
//     (in the first 8 bytes, little-endian), frees what the slot held and
//     allocates the new block; -touch writes one byte per page of it.
//     Microseconds per step.
//   - arena-boxes: 1000 boxes of 64 B, each written, freed together,
//     10 000 times. An allocator with a Reset method (the bump arena) is
//     Reset once per round instead of freeing each box. Nanoseconds per box.
//   - gc-pressure: a live set (-gc-live, default 1 GiB) of 1 KiB blocks,
//     written, held in the allocator's memory (for make, the baseline, in
//     a [][]byte of Go-heap blocks, as a program without nalloc would hold
//     it), while the program allocates twice that in short-lived Go
//     objects. GC cycles, GC CPU seconds
//     (/cpu/classes/gc/total:cpu-seconds) and the p99 GC pause
//     (/sched/pauses/total/gc:seconds) during that stream, and the CPU
//     time to build the live set and to run the stream.
//   - gc-pressure-paced: gc-pressure under nalloc.StartGCPacer, started
//     with its defaults once the live set is built, so that the
//     collector's goal counts the off-heap set as GOGC would count it on
//     the heap. Not for the allocators whose memory is the Go heap (make,
//     go, the bump arena).
//   - malloc-thread: glibc's benchtests/bench-malloc-thread.c. Each of N
//     threads keeps 1024 blocks and at every iteration frees the block of a
//     random slot and allocates one of a random size there, 4 to 32768 B
//     with an inverse-square distribution; the sizes and slots are its
//     tables, drawn from glibc's rand() as it draws them. 200 000
//     iterations per thread, N = 1, 2, 4, ... up to -threads: nanoseconds
//     per iteration (the round's wall time over one thread's iterations)
//     and the scaling of the throughput against N = 1.
//   - xmalloc: mimalloc-bench's xmalloc-test as it runs it (-w W -s 64):
//     W producer threads allocate batches of 4096 blocks of 64 B (the
//     batch, an array of their addresses, through the allocator too) and
//     write each, W consumer threads take the batches from a LIFO of at
//     most 100 and free every block and the batch, so that every free is
//     on another thread than its allocation. 0.5 s per W (-quick: 0.1 s),
//     W = 1, 2, 4, ... up to -threads/2. Frees per second, and the peak
//     RSS of each W.
//   - larson: mimalloc-bench's larson (larson 5 8 1000 5000 100 4141 N):
//     after a warm-up on the main thread, each of N threads replaces the
//     block of a random one of its 5000 slots with one of 8-1000 B, and
//     after 500 000 replacements hands its slots to a new thread and
//     exits; larson's own random numbers. 0.5 s per N (-quick: 0.1 s),
//     N = 1, 2, 4, ... up to -threads. Allocations per second, and the
//     peak RSS of each N.
//
// An arena is also Reset at the end of each glibc-simple and glibc-thread
// cycle (its Deallocate reclaims nothing), and malloc-large,
// malloc-thread, xmalloc and larson do not apply to it.
//
// Every workload also reports what mimalloc-bench reports of each run,
// the figures of its process from the workload's start to its end: peak
// RSS, minor and major page faults, elapsed (wall) time, user and system
// CPU; and the allocator's nalloc.Stats, where it has them: while it holds
// its blocks ("held") and after it freed them ("after").
//
// # How it measures
//
// Times are the CPU time of the run's process (CLOCK_PROCESS_CPUTIME_ID:
// user and system, every thread, the garbage collector's included), on
// every side, so that other load on the machine does not count while
// everything the run itself spends does; glibc-thread, malloc-thread and
// xmalloc and larson, whose point is how they scale with threads, are timed by the
// wall clock, from the moment every thread is set up to the moment the
// last one is done.
//
// Each run of a workload on an allocator is a process of its own (this
// binary, re-executed, or the C program), so that RSS, faults and the
// garbage collector's state belong to that run alone; runs of different
// allocators interleave. Every figure is the median of -runs runs
// (default 5), with the fastest and slowest beside it. The table marks the
// best median of each row.
//
// The C side compiles csrc (embedded) with the system C compiler ($CC,
// default cc) into a temporary directory, and runs the same workloads,
// with the same sizes, orders, writes and random steps, against each
// native library through dlopen and dlsym. xC is the Go figure's cost over
// the C figure's: 2.0 means the workload costs twice as much through
// nalloc; xcgo is the cgo figure's. The C program starts and joins a
// thread before it measures anything: a Go process is always
// multi-threaded, and glibc's malloc skips its atomics and arena locking
// in a process that never was, which would make the C side measure a
// glibc no Go program can have. Where two native libraries differ by more
// than 10% in C, or through cgo, the shoot-out checks that their order
// through nalloc is the same, and says so in a note when it is not.
// Without a C compiler the C figures are skipped with a note; in a binary
// built with CGO_ENABLED=0 the cgo figures are.
//
// Every child, Go or C, starts with
// GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384, which lets Debian's
// libjemalloc.so.2 be loaded after start; the user sets nothing.
//
// # Output formats
//
// -format table (default): per workload, a row per figure and a column per
// allocator; under a figure the native libraries also have via cgo and in
// C, a row for each and their xcgo and xC. -format csv: one line per row
// and allocator, with the columns workload, case, metric, unit, better,
// allocator, go_median, go_min, go_max, c_median, c_min, c_max, xc,
// winner, runs, cgo_median, cgo_min, cgo_max, xcgo (columns are only
// added, at the end). -format benchstat: one line per run in Go's
// benchmark format, named BenchmarkGlibcSimple/size=16B/impl=glibc/via=go
// (or via=cgo, via=c), for benchstat -col /impl or -col /via.
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
//	                        "box_size", "gc_live", "gc_block", "gc_stream",
//	                        "mt_thread_counts", "mt_iters", "mt_working_set",
//	                        "mt_min", "mt_max", "mt_sizes", "mt_slots",
//	                        "mt_seed", "xmalloc_workers",
//	                        "xmalloc_object_size", "xmalloc_batch",
//	                        "xmalloc_queue", "xmalloc_seconds",
//	                        "larson_thread_counts", "larson_min",
//	                        "larson_max", "larson_slots", "larson_rounds",
//	                        "larson_seed", "larson_seconds"}},
//	  "allocators": [{"name", "backend"?, "path"?, "loaded", "error"?,
//	                  "info"?: {"type", "library"?, "version"?, "arena"?}}],
//	  "native": {"enabled", "compiler"?, "skipped"?},
//	  "cgo": {"enabled", "skipped"?},
//	  "workloads": [{
//	    "name", "description",
//	    "rows": [{"case", "metric", "label", "unit", "better"?,
//	              "cells": [{"allocator", "go"?: summary, "c"?: summary,
//	                         "cgo"?: summary, "xc"?, "xcgo"?}],
//	              "winners"?: [allocator]}],
//	    "not_applicable"?: {allocator: why},
//	    "errors"?: {allocator, "allocator (C)" or "allocator (cgo)": error}}],
//	  "ranking_checks": [{"workload", "case", "metric", "against",
//	                      "faster_in_c", "slower_in_c", "c_gap", "agrees"}],
//	  "notes": [string]
//	}
//
// where a summary is {"median", "min", "max", "runs": [every run, in
// order]}, "case" is "size=16B", "threads=4", "w=2" (xmalloc-test's -w)
// or "" (the whole workload), and "unit" is one of ns, us, s, B, 1/s (per
// second), count, x (a ratio).
// "better" is lower or higher, or absent for figures no one wins (the
// allocator's Stats). A ranking check's "against" is c or cgo, and
// faster_in_c, slower_in_c and c_gap are the order and gap there (the
// names date from when C was the only reference). The metric IDs:
// ns_per_pair, pairs_per_sec, scaling, us_per_step, ns_per_box,
// build_seconds, stream_seconds, gc_cycles, gc_cpu_seconds,
// gc_pause_p99_seconds, ns_per_iter, frees_per_sec, ops_per_sec; the process figures
// peak_rss, minor_faults, major_faults, elapsed_seconds,
// user_cpu_seconds, system_cpu_seconds; and stats_held_FIELD,
// stats_after_FIELD for the nalloc.Stats fields allocated, active,
// resident, mapped, retained, metadata. Fields marked ? may be absent.
//
// # Exit status
//
// 0 when every run succeeded (skipped allocators are not failures); 1 when
// a run failed or no allocator loaded; 2 for a bad command line; 130 when
// interrupted, after printing what was measured.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	_ "github.com/nalloc/nalloc/all"                 // every backend registers itself
	_ "github.com/nalloc/nalloc/bench/internal/peer" // the peers register themselves
	"github.com/nalloc/nalloc/bench/internal/probe"
	"github.com/nalloc/nalloc/bench/internal/run"
	"github.com/nalloc/nalloc/bench/internal/shootout"
	"github.com/nalloc/nalloc/jemalloc"
	"github.com/nalloc/nalloc/tcmalloc"
)

func main() {
	setupProcess()
	if spec, ok := os.LookupEnv(run.ChildEnv); ok {
		os.Exit(run.ChildMain(spec, os.Stdout, os.Stderr))
	}
	os.Exit(command(os.Args[1:], os.Stdout, os.Stderr))
}

// setupProcess runs first in every process of the command: the parent,
// each child, and the test binary (TestMain). It makes jemalloc and
// TCMalloc loadable in this process (jemalloc.Reexec re-executes it once
// with the static-TLS tunable, if it started without; on linux/arm64
// tcmalloc.Reexec once with the library preloaded), for the probe
// subcommand and anything else that opens them in process. Its errors are
// not fatal: a missing library, or one that still will not load, is
// reported by the shoot-out per allocator, with the fix; the shoot-out's
// children get the tunable, and where it was needed the preload, from
// run.Environ.
func setupProcess() { _ = jemalloc.Reexec(); _ = tcmalloc.Reexec() }

// commands are the subcommands, by name; the shoot-out runs when the first
// argument is not one of them.
var commands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) int{
	"probe": probe.Run, // the mmap/brk laboratory
}

// command is the command with its arguments (without the program name);
// it returns the exit status.
func command(args []string, stdout, stderr io.Writer) int {
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
	return shootout.Run(ctx, args, stdout, stderr)
}
