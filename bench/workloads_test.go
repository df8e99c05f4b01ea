// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"context"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/nalloc/nalloc"
	_ "github.com/nalloc/nalloc/all"
	"github.com/nalloc/nalloc/jemalloc"
)

// tinyParams are the workloads at their smallest, for tests.
func tinyParams() params {
	p := paramsFor(true, 3, true, 2<<20)
	p.SimpleReps, p.ThreadReps, p.LargeSteps, p.BoxRounds = 2, 2, 10, 5
	p.GCStream = 4 << 20
	return p
}

func TestLargeSteps(t *testing.T) {
	p := paramsFor(false, 16, false, 1<<30)
	a, b := largeSteps(p), largeSteps(p)
	if len(a) != 1000 || !slices.Equal(a, b) {
		t.Fatalf("largeSteps: %d steps, deterministic %v", len(a), slices.Equal(a, b))
	}
	seen := map[int]bool{}
	for _, s := range a {
		if s.slot < 0 || s.slot >= 20 || s.size < 5<<20 || s.size > 25<<20 {
			t.Fatalf("step %+v out of range", s)
		}
		seen[s.slot] = true
	}
	if len(seen) != 20 {
		t.Errorf("1000 steps used %d of 20 slots", len(seen))
	}
	// math/rand/v2's ChaCha8 is specified to be stable, so the sequence
	// is part of the workload's definition: a change here changes every
	// published malloc-large figure.
	want := []largeStep{{17, 9553787}, {5, 24255693}, {15, 5993639}}
	if !slices.Equal(a[:3], want) {
		t.Errorf("first steps %v, want %v", a[:3], want)
	}
}

// TestWorkloadsInProcess runs every workload's Go side, at its smallest,
// on a native allocator, the Go heap and an arena, and checks that each
// reports every row it declares.
func TestWorkloadsInProcess(t *testing.T) {
	for _, name := range []string{"glibc", "go", "test-arena"} {
		for _, w := range workloads {
			t.Run(name+"/"+w.name, func(t *testing.T) {
				a, err := nalloc.Open(name)
				if err != nil {
					t.Fatal(err)
				}
				if w.notFor != nil && w.notFor(a) != "" {
					// Not for an arena: malloc-large. Not for Go memory
					// (the Go heap, the arena's chunks): pacing on it.
					if !(name == "test-arena" && w.name == "malloc-large" || name != "glibc" && w.name == "gc-pressure-paced") {
						t.Errorf("unexpectedly not applicable: %s", w.notFor(a))
					}
					return
				}
				got := map[rowKey]float64{}
				e := &runEnv{name: name, a: a, p: tinyParams(), put: func(c, m string, v float64) {
					if metrics[m] == nil {
						t.Errorf("unknown metric %q", m)
					}
					got[rowKey{c, m}] = v
				}}
				if err := w.run(e); err != nil {
					t.Fatal(err)
				}
				for _, k := range w.rows(e.p) {
					if v, ok := got[k]; !ok || v < 0 {
						t.Errorf("row %v: %v, %v", k, v, ok)
					}
				}
				if _, ok := a.(nalloc.StatsReporter); ok && w.name != "glibc-thread" {
					if _, ok := got[rowKey{"", statsMetric("held", "mapped")}]; !ok {
						t.Errorf("no Stats while held")
					}
				}
			})
		}
	}
	// The arena was Reset, not freed block by block, in arena-boxes.
	a, _ := nalloc.Open("test-arena")
	e := &runEnv{name: "test-arena", a: a, p: tinyParams(), put: func(string, string, float64) {}}
	if err := runBoxes(e); err != nil || a.(*arena).resets != e.p.BoxRounds+2 {
		t.Errorf("arena-boxes on an arena: %v, %d resets, want %d", err, a.(*arena).resets, e.p.BoxRounds+2)
	}
}

// TestNative compiles the C side and runs every workload of it against
// each native library installed here, checking that it reports the same
// rows as the Go side. It also checks that jemalloc loads in C with the
// tunable the children get.
func TestNative(t *testing.T) {
	side := buildNative(context.Background(), t.TempDir())
	if side.bin == "" {
		if os.Getenv("NALLOC_REQUIRE_CC") == "1" {
			t.Fatalf("%s (NALLOC_REQUIRE_CC=1)", side.skipped)
		}
		t.Skip(side.skipped)
	}
	p := tinyParams()
	for _, name := range []string{"glibc", "jemalloc", "mimalloc"} {
		r := nativeRecipes[name]
		for _, w := range workloads {
			if w.cArgs == nil {
				continue
			}
			t.Run(name+"/"+w.name, func(t *testing.T) {
				res, err := side.run(context.Background(), r, w, p)
				if err != nil && strings.Contains(err.Error(), "cannot open shared object file") {
					t.Skipf("%s is not installed: %v", r.Library, err)
				}
				if err != nil {
					t.Fatal(err)
				}
				var got []rowKey
				for _, v := range res.values {
					got = append(got, v.rowKey)
				}
				want := append(w.rows(p), rowKey{"", mFaults}, rowKey{"", mPeakRSS})
				for _, k := range want {
					if !slices.Contains(got, k) {
						t.Errorf("C reports no %v (it reports %v)", k, got)
					}
				}
			})
		}
	}
}

// TestResetSignature: an allocator with a method named Reset must have
// exactly Reset(), the resetter the workloads look for. Otherwise they
// would take it for a malloc, free its blocks one by one and never
// reclaim them: arena-boxes would hold 640 MB, malloc-large ~15 GB.
func TestResetSignature(t *testing.T) {
	for _, name := range nalloc.Names() {
		a, err := nalloc.Open(name)
		if err != nil {
			continue
		}
		if m, ok := reflect.TypeOf(a).MethodByName("Reset"); ok {
			if _, ok := a.(resetter); !ok {
				t.Errorf("%s: %T has Reset of type %v, not func(): the shoot-out would not see it is an arena", name, a, m.Type)
			}
		}
	}
}

func TestParseChild(t *testing.T) {
	res, err := parseChild([]byte("V\tsize=16B\tns_per_pair\t12.5\nV\t\tpeak_rss\t1e+06\nINFO\tlibrary\tlibc.so.6\n"))
	if err != nil || len(res.values) != 2 || res.values[1] != (value{rowKey{"", mPeakRSS}, 1e6}) || res.info["library"] != "libc.so.6" {
		t.Errorf("parseChild: %+v, %v", res, err)
	}
	if res, err := parseChild([]byte("NA\tno reason\n")); err != nil || res.na != "no reason" {
		t.Errorf("NA: %+v, %v", res, err)
	}
	for _, bad := range []string{"V\tx\ty\tnot-a-number\n", "hello\n", "V\tonly\ttwo\n"} {
		if _, err := parseChild([]byte(bad)); err == nil {
			t.Errorf("parseChild(%q): no error", bad)
		}
	}
}

func TestChildEnviron(t *testing.T) {
	tunables := func(env []string) string {
		for _, kv := range env {
			if v, ok := strings.CutPrefix(kv, "GLIBC_TUNABLES="); ok {
				return v
			}
		}
		return ""
	}
	t.Setenv("GLIBC_TUNABLES", "")
	os.Unsetenv("GLIBC_TUNABLES")
	if got := tunables(childEnviron()); got != jemalloc.StaticTLSTunable {
		t.Errorf("no tunables: %q", got)
	}
	t.Setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")
	if got := tunables(childEnviron()); got != "glibc.malloc.arena_max=2:"+jemalloc.StaticTLSTunable {
		t.Errorf("with arena_max: %q", got)
	}
	t.Setenv("GLIBC_TUNABLES", "glibc.rtld.optional_static_tls=65536")
	if got := tunables(childEnviron()); got != "glibc.rtld.optional_static_tls=65536" {
		t.Errorf("the user's own static TLS setting was changed: %q", got)
	}
	t.Setenv(childEnv, "{}")
	if slices.ContainsFunc(childEnviron(), func(kv string) bool { return strings.HasPrefix(kv, childEnv+"=") }) {
		t.Errorf("a child's spec leaks into its children")
	}
}

func TestOneLine(t *testing.T) {
	err := errors.New("nalloc: unknown allocator \"x\": its package is not linked in; add\n\timport _ \"p\"\n(or _ \"all\" for every backend)")
	if got, want := oneLine(err), `nalloc: unknown allocator "x": its package is not linked in; add import _ "p" (or _ "all" for every backend)`; got != want {
		t.Errorf("oneLine = %q\nwant %q", got, want)
	}
}
