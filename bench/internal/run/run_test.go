// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package run

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bench/internal/benchtest"
	"github.com/nalloc/nalloc/bench/internal/metric"
	"github.com/nalloc/nalloc/bench/internal/workload"
	"github.com/nalloc/nalloc/internal/native"
	"github.com/nalloc/nalloc/jemalloc"
	"github.com/nalloc/nalloc/tcmalloc"
)

// TestMain makes jemalloc and TCMalloc loadable in this process, as the
// shoot-out's are (jemalloc.Reexec re-executes the test binary with the
// static-TLS tunable), for the backends' OpenLibrary.
func TestMain(m *testing.M) {
	_ = jemalloc.Reexec()
	_ = tcmalloc.Reexec()
	os.Exit(m.Run())
}

// timeoutForTests is the -timeout of the children the tests start.
const timeoutForTests = 2 * time.Minute

// tinyParams are the workloads at their smallest, for tests (as package
// workload's tests make them).
func tinyParams() *workload.Params {
	p := workload.ParamsFor(true, 4, true, 2<<20)
	p.SimpleReps, p.ThreadReps, p.LargeSteps, p.BoxRounds = 2, 2, 10, 5
	p.GCStream = 4 << 20
	p.MTIters, p.XSeconds, p.XBatch, p.XQueue = 3000, 0.02, 512, 2
	p.LarsonSlots, p.LarsonRounds, p.LarsonSeconds = 100, 2, 0.02
	return &p
}

// TestNative compiles the C side and runs every workload of it against
// each native library installed here, checking that it reports the same
// rows as the Go side. It also checks that jemalloc loads in C with the
// tunable the children get.
func TestNative(t *testing.T) {
	r := &Runner{Timeout: timeoutForTests, C: BuildNative(context.Background(), t.TempDir())}
	if r.C.Bin == "" {
		if os.Getenv("NALLOC_REQUIRE_CC") == "1" {
			t.Fatalf("%s (NALLOC_REQUIRE_CC=1)", r.C.Skipped)
		}
		t.Skip(r.C.Skipped)
	}
	p := tinyParams()
	for name, l := range benchtest.CLibraries() {
		for _, w := range workload.All() {
			if w.CArgs == nil {
				continue
			}
			t.Run(name+"/"+w.Name, func(t *testing.T) {
				res, err := r.CChild(context.Background(), l.Lib, l.Pair, w, p)
				if err != nil && strings.Contains(err.Error(), "cannot open shared object file") {
					t.Skipf("%s is not installed: %v", l.Lib, err)
				}
				if err != nil {
					t.Fatal(err)
				}
				var got []workload.RowKey
				for _, v := range res.Values {
					got = append(got, v.RowKey)
				}
				want := w.Rows(p)
				for _, m := range metric.Process {
					want = append(want, workload.RowKey{Metric: m})
				}
				for _, k := range want {
					if !slices.Contains(got, k) {
						t.Errorf("C reports no %v (it reports %v)", k, got)
					}
				}
			})
		}
	}
}

// TestNativeSpecs: every native backend registered is described, with a
// pair (one the C side calls plainly, or a zone's), and where it runs
// opens through its OpenLibrary the same library the registry gives.
func TestNativeSpecs(t *testing.T) {
	specs := native.Specs()
	if !slices.IsSortedFunc(specs, func(a, b *native.Spec) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("nativeSpecs is not sorted by name")
	}
	for _, s := range specs {
		if !slices.Contains(nalloc.Names(), s.Name) {
			t.Errorf("%s is not registered", s.Name)
		}
		kind := "plain"
		if s.Malloc.Zone != "" {
			kind = "zone" // libsystem's: Alloc(zone, size), Free(zone, p)
		}
		if s.Pair.Kind != kind || s.Pair.Alloc == "" || s.Pair.Free == "" {
			t.Errorf("%s: pair %+v", s.Name, s.Pair)
		}
		a, err := s.OpenLibrary("")
		if err != nil {
			if errors.Is(err, nalloc.ErrLibraryNotFound) || (errors.Is(err, nalloc.ErrUnsupported) && !s.RunsHere()) {
				continue
			}
			t.Errorf("%s: OpenLibrary: %v", s.Name, err)
			continue
		}
		if b, err := nalloc.Open(s.Name); err != nil || b != a {
			t.Errorf("%s: OpenLibrary(\"\") gives %p, Open %p (%v): want the same", s.Name, a, b, err)
		}
	}
}

func TestParseChild(t *testing.T) {
	res, err := parseChild([]byte("V\tsize=16B\tns_per_pair\t12.5\nV\t\tpeak_rss\t1e+06\nINFO\tlibrary\tlibc.so.6\n"))
	if err != nil || len(res.Values) != 2 || res.Values[1] != (Value{workload.RowKey{Metric: metric.PeakRSS}, 1e6}) || res.Info["library"] != "libc.so.6" {
		t.Errorf("parseChild: %+v, %v", res, err)
	}
	if res, err := parseChild([]byte("NA\tno reason\n")); err != nil || res.NA != "no reason" {
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
	if got := tunables(Environ()); got != jemalloc.StaticTLSTunable {
		t.Errorf("no tunables: %q", got)
	}
	t.Setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")
	if got := tunables(Environ()); got != "glibc.malloc.arena_max=2:"+jemalloc.StaticTLSTunable {
		t.Errorf("with arena_max: %q", got)
	}
	t.Setenv("GLIBC_TUNABLES", "glibc.rtld.optional_static_tls=65536")
	if got := tunables(Environ()); got != "glibc.rtld.optional_static_tls=65536" {
		t.Errorf("the user's own static TLS setting was changed: %q", got)
	}
	t.Setenv(ChildEnv, "{}")
	if slices.ContainsFunc(Environ(), func(kv string) bool { return strings.HasPrefix(kv, ChildEnv+"=") }) {
		t.Errorf("a child's spec leaks into its children")
	}
}

func TestOneLine(t *testing.T) {
	err := errors.New("nalloc: unknown allocator \"x\": its package is not linked in; add\n\timport _ \"p\"\n(or _ \"all\" for every backend)")
	if got, want := OneLine(err), `nalloc: unknown allocator "x": its package is not linked in; add import _ "p" (or _ "all" for every backend)`; got != want {
		t.Errorf("OneLine = %q\nwant %q", got, want)
	}
}
