// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package ctest builds and loads nalloc's C test fixture (testdata/fixture.c): the
// C loops that give benchmarks their native baseline, and small functions
// that check the call paths. It compiles with the system C compiler at test
// time, so the tests need no cgo toolchain in the build, only a cc on the
// machine (for a linux/arm64 test binary run under emulation on an x86-64
// machine, the cross compiler aarch64-linux-gnu-gcc). Without one, tests
// that need the fixture are skipped, unless NALLOC_REQUIRE_CC=1 (set by
// make test and CI), which makes them fail.
package ctest

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nalloc/nalloc/internal/ffi"
	"github.com/nalloc/nalloc/internal/platform"
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
	so, skip, err := compile("fixture", fixtureSource, "-O2", "-fno-omit-frame-pointer")
	if so == "" {
		return nil, skip, err
	}
	lib, err = ffi.Load(so)
	return lib, "", err
}

// stubSource is a shared library with one function and no dependencies,
// not even libc: dlsym finds nothing else through it.
var stubSource = []byte("int nalloc_stub(void) { return 42; }\n")

var stub struct {
	once       sync.Once
	path, skip string
	err        error
}

// Stub returns the path of a shared library that loads but has none of
// the functions any backend needs (it is linked with -nostdlib, so dlsym
// does not find libc's malloc through it either): for testing what a
// backend says about a library that is not the one it expects.
func Stub(tb testing.TB) string {
	tb.Helper()
	stub.once.Do(func() { stub.path, stub.skip, stub.err = compile("stub", stubSource, "-nostdlib") })
	if stub.skip != "" {
		if os.Getenv("NALLOC_REQUIRE_CC") == "1" {
			tb.Fatalf("ctest: %s (NALLOC_REQUIRE_CC=1)", stub.skip)
		}
		tb.Skipf("ctest: %s", stub.skip)
	}
	if stub.err != nil {
		tb.Fatal(stub.err)
	}
	return stub.path
}

// compile builds src into a shared library with the C compiler for this
// process's architecture (platform.CCompiler: the system cc, or the cross
// compiler when the tests run as linux/arm64 under emulation), cached
// under the user cache directory by a hash of the source, flags, compiler
// and target, and returns its path; or a reason to skip when there is no
// compiler.
func compile(name string, src []byte, flags ...string) (so, skip string, err error) {
	cc, err := platform.CCompiler()
	if errors.Is(err, platform.ErrNoCompiler) {
		return "", err.Error() + " to build " + name + ".c", nil
	}
	if err != nil {
		return "", "", err
	}
	if _, err := exec.LookPath(cc); err != nil {
		return "", "no C compiler (" + cc + ") to build " + name + ".c; apt-get install gcc, or set CC", nil
	}
	h := sha256.New()
	h.Write(src)
	h.Write([]byte(strings.Join(flags, " ")))
	h.Write([]byte("\x00" + cc + "\x00" + runtime.GOARCH))
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "nalloc-ctest")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	so = filepath.Join(dir, name+"-"+hex.EncodeToString(h.Sum(nil)[:8])+".so")
	if _, err := os.Stat(so); err == nil {
		return so, "", nil
	}
	c := filepath.Join(dir, name+".c")
	if err := os.WriteFile(c, src, 0o644); err != nil {
		return "", "", err
	}
	// Build to a temporary name and rename, so that concurrent test
	// binaries never load a half-written library.
	tmp, err := os.CreateTemp(dir, name+"-*.so")
	if err != nil {
		return "", "", err
	}
	tmp.Close()
	args := append(append([]string{}, flags...), "-shared", "-fPIC", "-o", tmp.Name(), c)
	if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		os.Remove(tmp.Name())
		return "", "", &buildError{cc: cc, name: name, out: string(out), err: err}
	}
	if err := os.Rename(tmp.Name(), so); err != nil {
		return "", "", err
	}
	return so, "", nil
}

type buildError struct {
	cc, name, out string
	err           error
}

func (e *buildError) Error() string {
	return "ctest: " + e.cc + " failed on " + e.name + ".c: " + e.err.Error() + "\n" + e.out
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
		ffi.Slow4(fn, args[0], args[1], args[2], args[3])
	case 5:
		ffi.Slow5(fn, args[0], args[1], args[2], args[3], args[4])
	default:
		b.Fatalf("ctest: ReportVsC(%s) with %d arguments", loop, len(args))
	}
	cNs := float64(time.Since(start).Nanoseconds()) / float64(b.N)
	b.ReportMetric(cNs, "C-ns/op")
	b.ReportMetric(goNs/cNs, "xC")
}

// Lookup loads the library lib (a soname or a path) and returns a function
// that finds its symbols, failing the test for one that is missing: for
// tests that call a library's functions directly.
func Lookup(tb testing.TB, lib string) func(name string) uintptr {
	tb.Helper()
	l, err := ffi.Load(lib)
	if err != nil {
		tb.Fatal(err)
	}
	return func(name string) uintptr {
		tb.Helper()
		p, err := l.Symbol(name)
		if err != nil {
			tb.Fatal(err)
		}
		return p
	}
}
