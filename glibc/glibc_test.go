// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package glibc_test

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/glibc"
	"github.com/nalloc/nalloc/internal/ctest"
	"github.com/nalloc/nalloc/internal/ffi"
	"github.com/nalloc/nalloc/nalloctest"
)

func open(t testing.TB) *glibc.Allocator {
	t.Helper()
	a, err := glibc.Open()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestConformance(t *testing.T) {
	nalloctest.Run(t, nalloctest.Config{
		New:            func(t testing.TB) nalloc.Allocator { return open(t) },
		StatsAllocated: true,
		// purego.SyscallN, the path without assembly, allocates per call.
		MayAllocate: ffi.FastPath == ffi.PathPurego,
	})
}

func TestOpenIsShared(t *testing.T) {
	a, b := open(t), open(t)
	if a != b {
		t.Fatal("Open returned two different Allocators")
	}
	c, err := nalloc.Open("glibc")
	if err != nil || c != nalloc.Allocator(a) {
		t.Fatalf(`nalloc.Open("glibc") = %v, %v; want the same allocator as glibc.Open`, c, err)
	}
	if v := a.Version(); !strings.HasPrefix(v, "2.") {
		t.Errorf("Version() = %q, want 2.x", v)
	}
}

func TestOpenLibraryMissing(t *testing.T) {
	_, err := glibc.OpenLibrary("/nonexistent/libc.so.6")
	if !errors.Is(err, nalloc.ErrLibraryNotFound) {
		t.Fatalf("OpenLibrary of a missing file: err = %v, want ErrLibraryNotFound", err)
	}
	if !strings.Contains(err.Error(), "/nonexistent/libc.so.6") {
		t.Errorf("error %q does not name the path", err)
	}
}

func TestParseParam(t *testing.T) {
	for _, name := range []string{"M_MMAP_THRESHOLD", "mmap_threshold", "M_mmap_threshold"} {
		if p, err := glibc.ParseParam(name); err != nil || p != glibc.M_MMAP_THRESHOLD {
			t.Errorf("ParseParam(%q) = %v, %v; want M_MMAP_THRESHOLD", name, p, err)
		}
	}
	_, err := glibc.ParseParam("M_BOGUS")
	if !errors.Is(err, glibc.ErrUnknownParam) || !strings.Contains(err.Error(), "M_ARENA_MAX") {
		t.Errorf("ParseParam(M_BOGUS) err = %v, want ErrUnknownParam listing the names", err)
	}
	if s := glibc.Param(42).String(); s != "Param(42)" {
		t.Errorf("Param(42).String() = %q", s)
	}
}

// TestMalloptMovesMmapThreshold checks the mechanism through Mallinfo2:
// with M_MMAP_THRESHOLD at 128 KiB a 1 MiB block is mmapped on its own
// (Hblks and Hblkhd grow); at 4 MiB it comes from an arena instead. It
// runs in a child process: mallopt is for the whole process, and the free
// lists of a process that has run the conformance suite hold 1 MiB chunks
// that malloc would reuse before considering mmap.
func TestMalloptMovesMmapThreshold(t *testing.T) {
	if !inChild(t) {
		return
	}
	a := open(t)
	l := nalloc.Layout{Size: 1 << 20, Align: 16}
	mmapped := func() (blocks, bytes uint64) {
		before, err := a.Mallinfo2()
		if err != nil {
			t.Fatal(err)
		}
		p, err := a.Allocate(l)
		if err != nil {
			t.Fatal(err)
		}
		during, _ := a.Mallinfo2()
		a.Deallocate(p, l)
		return during.Hblks - before.Hblks, during.Hblkhd - before.Hblkhd
	}
	if err := a.Mallopt(glibc.M_MMAP_THRESHOLD, 128<<10); err != nil {
		t.Fatal(err)
	}
	if blocks, bytes := mmapped(); blocks != 1 || bytes < uint64(l.Size) {
		t.Errorf("threshold 128 KiB: a 1 MiB block added %d mmapped blocks of %d bytes, want 1 of >= 1 MiB", blocks, bytes)
	}
	if err := a.Mallopt(glibc.M_MMAP_THRESHOLD, 4<<20); err != nil {
		t.Fatal(err)
	}
	if blocks, _ := mmapped(); blocks != 0 {
		t.Errorf("threshold 4 MiB: a 1 MiB block added %d mmapped blocks, want 0", blocks)
	}
}

// TestTune sets M_MMAP_THRESHOLD by name, with a unit, and checks the
// effect through Mallinfo2 as TestMalloptMovesMmapThreshold does; and the
// errors for a bad name and a bad value.
func TestTune(t *testing.T) {
	if !inChild(t) {
		return
	}
	a := open(t)
	if err := a.Tune("mmap_threshold", "128k"); err != nil {
		t.Fatal(err)
	}
	l := nalloc.Layout{Size: 1 << 20, Align: 16}
	before, _ := a.Mallinfo2()
	p, err := a.Allocate(l)
	if err != nil {
		t.Fatal(err)
	}
	during, _ := a.Mallinfo2()
	a.Deallocate(p, l)
	if during.Hblks != before.Hblks+1 {
		t.Errorf("with M_MMAP_THRESHOLD at 128k a 1 MiB block was not mmapped (%d -> %d blocks)", before.Hblks, during.Hblks)
	}
	if err := a.Tune("M_BOGUS", "1"); !errors.Is(err, glibc.ErrUnknownParam) {
		t.Errorf("Tune of an unknown parameter: %v", err)
	}
	if err := a.Tune("M_TOP_PAD", "lots"); !errors.Is(err, strconv.ErrSyntax) || !strings.Contains(err.Error(), "M_TOP_PAD") {
		t.Errorf("Tune with a value that is not a number: %v", err)
	}
}

func TestMalloptRefuses(t *testing.T) {
	a := open(t)
	// glibc caps M_MXFAST at 80 * sizeof(size_t) / 4, 160 on 64-bit.
	if err := a.Mallopt(glibc.M_MXFAST, 1000); !errors.Is(err, glibc.ErrMalloptRefused) {
		t.Errorf("Mallopt(M_MXFAST, 1000) err = %v, want glibc's refusal", err)
	}
	if err := a.Mallopt(glibc.M_TOP_PAD, 1<<40); !errors.Is(err, strconv.ErrRange) {
		t.Errorf("Mallopt(M_TOP_PAD, 1<<40) err = %v, want a C int range error", err)
	}
}

func TestMallinfo2CountsBlocks(t *testing.T) {
	a := open(t)
	before, err := a.Mallinfo2()
	if err != nil {
		t.Fatal(err)
	}
	l := nalloc.Layout{Size: 1000, Align: 16}
	var ps []unsafe.Pointer
	for range 1000 {
		p, err := a.Allocate(l)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	during, _ := a.Mallinfo2()
	for _, p := range ps {
		a.Deallocate(p, l)
	}
	// Blocks parked in the thread's tcache already count as in use, so
	// reusing them adds nothing: allow for a few of them.
	if grew := during.Uordblks - before.Uordblks; grew < 900*1000 || grew > 1100*1000 {
		t.Errorf("Uordblks grew by %d with 1000 blocks of 1000 bytes live, want about 1 MB", grew)
	}
	if during.Arena < during.Uordblks {
		t.Errorf("Arena %d < Uordblks %d", during.Arena, during.Uordblks)
	}
}

func TestTrimReleases(t *testing.T) {
	a := open(t)
	l := nalloc.Layout{Size: 4000, Align: 16}
	var ps []unsafe.Pointer
	for range 20000 { // 80 MB in arena chunks, below the mmap threshold
		p, err := a.Allocate(l)
		if err != nil {
			t.Fatal(err)
		}
		*(*byte)(p) = 1
		ps = append(ps, p)
	}
	for _, p := range ps {
		a.Deallocate(p, l)
	}
	released, err := a.Trim(0)
	if err != nil || !released {
		t.Fatalf("Trim(0) after freeing 80 MB = %v, %v; want true", released, err)
	}
}

func TestBreakAndInfo(t *testing.T) {
	a := open(t)
	brk, err := a.Break()
	if err != nil || brk == 0 {
		t.Fatalf("Break() = %#x, %v", brk, err)
	}
	xml, err := a.Info()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(xml, "<malloc version=") || !strings.Contains(xml, "</malloc>") {
		t.Fatalf("Info() is not malloc_info's XML:\n%.200s", xml)
	}
}

// TestStackUse measures how much stack glibc's calls take on fresh
// threads. (glibc's per-thread set-up, the tcache and the choice of arena,
// has already run by then, on the system stack: the thread start code of
// cgo and of purego's fakecgo frees its start block on the new thread.)
// docs/backends.md ("Stack") has the figures.
func TestStackUse(t *testing.T) {
	open(t) // initialises glibc's malloc on the system stack first, as the backend does
	sym := ctest.Lookup(t, "libc.so.6")
	malloc, free, memalign, realloc := sym("malloc"), sym("free"), sym("memalign"), sym("realloc")
	m := ctest.NewStackMeter(t, malloc)
	for range 8 {
		done := make(chan struct{})
		go func() {
			defer close(done)
			runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
			p := m.Call("malloc", malloc, 64, 0, 0, 0)
			p = m.Call("realloc", realloc, p, 100000, 0, 0)
			m.Call("free", free, p, 0, 0, 0)
			p = m.Call("memalign", memalign, 4096, 1000, 0, 0)
			m.Call("free", free, p, 0, 0, 0)
		}()
		<-done
	}
	m.Check(t)
}

// inChild runs the calling test again in a fresh test process and reports
// its result; it returns true in that child, which then does the work.
func inChild(t *testing.T) bool {
	t.Helper()
	const env = "NALLOC_GLIBC_TEST_CHILD"
	if os.Getenv(env) == t.Name() {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v")
	cmd.Env = append(os.Environ(), env+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("in a child process: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("the child process did not run %s:\n%s", t.Name(), out)
	}
	if testing.Verbose() {
		t.Logf("child process:\n%s", out)
	}
	return false
}

// TestValgrindCatchesOverrun writes one byte past a block, on purpose: it
// runs only under .ci/valgrind --selftest, which checks that memcheck
// reports it.
func TestValgrindCatchesOverrun(t *testing.T) {
	if os.Getenv("NALLOC_VALGRIND_SELFTEST") != "1" {
		t.Skip("only for .ci/valgrind --selftest")
	}
	a := open(t)
	l := nalloc.Layout{Size: 64, Align: 8}
	p, err := a.Allocate(l)
	if err != nil {
		t.Fatal(err)
	}
	*(*byte)(unsafe.Add(p, l.Size)) = 1 // the overrun
	a.Deallocate(p, l)
}
