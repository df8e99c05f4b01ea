// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package ctest builds and loads nalloc's C test fixture (testdata/fixture.c): the
// C loops that give benchmarks their native baseline, and small functions
// that check the call paths. It compiles with the system C compiler at test
// time, so the tests need no cgo toolchain in the build, only a cc on the
// machine. Without one, tests that need the fixture are skipped, unless
// NALLOC_REQUIRE_CC=1 (set by make test and CI), which makes them fail.
package ctest

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nalloc/nalloc/internal/ffi"
)

//go:embed testdata/fixture.c
var fixtureSource []byte

var fixture struct {
	once sync.Once
	lib  *ffi.Library
	err  error
	skip string
}

// Fixture returns the compiled fixture library. The .so is cached under
// the user cache directory by a hash of its source, so a run compiles it
// once at most.
func Fixture(tb testing.TB) *ffi.Library {
	tb.Helper()
	fixture.once.Do(func() { fixture.lib, fixture.skip, fixture.err = build() })
	if fixture.skip != "" {
		if os.Getenv("NALLOC_REQUIRE_CC") == "1" {
			tb.Fatalf("ctest: %s (NALLOC_REQUIRE_CC=1)", fixture.skip)
		}
		tb.Skipf("ctest: %s", fixture.skip)
	}
	if fixture.err != nil {
		tb.Fatal(fixture.err)
	}
	return fixture.lib
}

// Symbol returns the address of a fixture function, failing the test if
// it is missing.
func Symbol(tb testing.TB, name string) uintptr {
	tb.Helper()
	p, err := Fixture(tb).Symbol(name)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func build() (lib *ffi.Library, skip string, err error) {
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "cc"
	}
	if _, err := exec.LookPath(cc); err != nil {
		return nil, "no C compiler (" + cc + ") to build the fixture; apt-get install gcc", nil
	}
	sum := sha256.Sum256(fixtureSource)
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "nalloc-ctest")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	so := filepath.Join(dir, "fixture-"+hex.EncodeToString(sum[:8])+".so")
	if _, err := os.Stat(so); err != nil {
		src := filepath.Join(dir, "fixture.c")
		if err := os.WriteFile(src, fixtureSource, 0o644); err != nil {
			return nil, "", err
		}
		// Build to a temporary name and rename, so that concurrent test
		// binaries never load a half-written library.
		tmp, err := os.CreateTemp(dir, "fixture-*.so")
		if err != nil {
			return nil, "", err
		}
		tmp.Close()
		out, err := exec.Command(cc, "-O2", "-fno-omit-frame-pointer", "-shared", "-fPIC",
			"-o", tmp.Name(), src).CombinedOutput()
		if err != nil {
			os.Remove(tmp.Name())
			return nil, "", &buildError{cc: cc, out: string(out), err: err}
		}
		if err := os.Rename(tmp.Name(), so); err != nil {
			return nil, "", err
		}
	}
	lib, err = ffi.Load(so)
	return lib, "", err
}

type buildError struct {
	cc, out string
	err     error
}

func (e *buildError) Error() string {
	return "ctest: " + e.cc + " failed on fixture.c: " + e.err.Error() + "\n" + e.out
}

// ReportVsC is called by a benchmark right after its timed loop: it runs
// the fixture's C loop named loop for the same b.N iterations (args, then
// b.N, are its arguments) and reports the C time per iteration as C-ns/op
// and the benchmark's own time over it as xC. Both figures come from the
// same run, on the same machine state, so the ratio is the crossing cost.
func ReportVsC(b *testing.B, loop string, args ...uintptr) {
	b.Helper()
	goNs := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.StopTimer()
	fn := Symbol(b, loop)
	args = append(args, uintptr(b.N))
	start := time.Now()
	switch len(args) {
	case 4:
		ffi.Block4(fn, args[0], args[1], args[2], args[3])
	case 5:
		ffi.Block5(fn, args[0], args[1], args[2], args[3], args[4])
	default:
		b.Fatalf("ctest: ReportVsC(%s) with %d arguments", loop, len(args))
	}
	cNs := float64(time.Since(start).Nanoseconds()) / float64(b.N)
	b.ReportMetric(cNs, "C-ns/op")
	b.ReportMetric(goNs/cNs, "xC")
}
