// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !windows

package tcmalloc_test

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/ebitengine/purego"
	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/ctest"
	"github.com/nalloc/nalloc/internal/ffi"
	"github.com/nalloc/nalloc/internal/native"
	"github.com/nalloc/nalloc/nalloctest"
	"github.com/nalloc/nalloc/osmem"
	"github.com/nalloc/nalloc/tcmalloc"
)

func open(t testing.TB) *tcmalloc.Allocator {
	t.Helper()
	a, err := tcmalloc.Open()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestConformance(t *testing.T) {
	nalloctest.Run(t, nalloctest.Config{
		New:            func(t testing.TB) nalloc.Allocator { return open(t) },
		StatsAllocated: true,
		MayAllocate:    native.FastPathAllocates,
	})
}

func TestOpen(t *testing.T) {
	a := open(t)
	if b, err := nalloc.Open("tcmalloc"); err != nil || b != nalloc.Allocator(a) {
		t.Fatalf(`nalloc.Open("tcmalloc") = %v, %v; want tcmalloc.Open's allocator`, b, err)
	}
	if v := a.Version(); !regexp.MustCompile(`^\d+\.\d+`).MatchString(v) {
		t.Errorf("Version() = %q, want major.minor", v)
	}
	t.Logf("%s is gperftools %s", a.Library(), a.Version())
	if _, err := tcmalloc.OpenLibrary("/nonexistent/libtcmalloc_minimal.so.4"); !errors.Is(err, nalloc.ErrLibraryNotFound) {
		t.Errorf("OpenLibrary of a missing file: %v, want ErrLibraryNotFound", err)
	}
}

// TestPropertiesAndTune reads properties, sets the thread-cache budget and
// reads it back, and checks the errors for names TCMalloc does not know.
func TestPropertiesAndTune(t *testing.T) {
	a := open(t)
	old, err := a.Property("tcmalloc.max_total_thread_cache_bytes")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Tune("tcmalloc.max_total_thread_cache_bytes", strconv.FormatUint(old, 10))
	if err := a.Tune("tcmalloc.max_total_thread_cache_bytes", "48MiB"); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Property("tcmalloc.max_total_thread_cache_bytes"); got != 48<<20 {
		t.Errorf("after Tune to 48MiB, the property is %d", got)
	}
	if _, err := a.Property("tcmalloc.no_such_property"); err == nil || !strings.Contains(err.Error(), "no_such_property") {
		t.Errorf("Property of an unknown name: %v", err)
	}
	if err := a.Tune("generic.heap_size", "1"); !errors.Is(err, tcmalloc.ErrReadOnlyProperty) {
		t.Errorf("Tune of a read-only property: %v, want ErrReadOnlyProperty", err)
	}
	if err := a.Tune("tcmalloc.max_total_thread_cache_bytes", "lots"); err == nil {
		t.Errorf("Tune with a value that is not a size succeeded")
	}
	if err := a.Tune("", "1"); !errors.Is(err, tcmalloc.ErrUnknownProperty) {
		t.Errorf("Tune with no name: %v, want ErrUnknownProperty", err)
	}
}

// TestStatsAndPurge follows 64 MiB of blocks through Stats: allocated,
// then freed (still mapped, in the page heap), then 16 MiB of them purged
// (PurgeBytes), then all (Purge): unmapped, so Retained.
func TestStatsAndPurge(t *testing.T) {
	a := open(t)
	l := nalloc.Layout{Size: 1 << 20, Align: 8}
	before, err := a.Stats()
	if err != nil {
		t.Fatal(err)
	}
	var blocks []unsafe.Pointer
	for range 64 {
		p, err := a.Allocate(l)
		if err != nil {
			t.Fatal(err)
		}
		clear(unsafe.Slice((*byte)(p), l.Size))
		blocks = append(blocks, p)
	}
	held, _ := a.Stats()
	for _, p := range blocks {
		a.Deallocate(p, l)
	}
	freed, _ := a.Stats()
	a.PurgeBytes(16 << 20)
	part, _ := a.Stats()
	if part.Retained < freed.Retained+16<<20 {
		t.Errorf("PurgeBytes(16 MiB) unmapped %d bytes", part.Retained-freed.Retained)
	}
	if err := a.Purge(); err != nil {
		t.Fatal(err)
	}
	purged, _ := a.Stats()
	t.Logf("before %+v\nheld   %+v\nfreed  %+v\npart   %+v\npurged %+v", before, held, freed, part, purged)
	if held.Allocated < before.Allocated+64<<20 || held.Active < held.Allocated || held.Mapped < held.Active {
		t.Errorf("with 64 MiB held: %+v; want Allocated up by 64 MiB and Allocated <= Active <= Mapped", held)
	}
	if freed.Allocated > held.Allocated-60<<20 {
		t.Errorf("after freeing 64 MiB, Allocated went from %d to %d", held.Allocated, freed.Allocated)
	}
	if purged.Retained < freed.Retained+60<<20 || purged.Mapped > freed.Mapped-60<<20 {
		t.Errorf("Purge did not unmap the freed 64 MiB: Retained %d -> %d, Mapped %d -> %d",
			freed.Retained, purged.Retained, freed.Mapped, purged.Mapped)
	}
	if text, err := a.Info(); err != nil || !strings.Contains(text, "Bytes in use by application") {
		t.Errorf("Info is not TCMalloc's report (%v):\n%.300s", err, text)
	}
}

// TestLoadDoesNotOverride checks what RTLD_LOCAL promises: the library
// defines malloc, but the process's malloc stays glibc's. TCMalloc tells
// which blocks it owns (MallocExtension_GetOwnership: 1 owned, 2 not).
func TestLoadDoesNotOverride(t *testing.T) {
	a := open(t)
	tc, libc := ctest.Lookup(t, a.Library()), ctest.Lookup(t, "libc.so.6")
	ownership, libcMalloc, libcFree := tc("MallocExtension_GetOwnership"), libc("malloc"), libc("free")
	if tc("malloc") == libcMalloc {
		t.Fatal("libc.so.6's malloc resolves to TCMalloc's")
	}
	// Where Reexec preloaded the library (linux/arm64), it is in the
	// global scope: what C code calls by name must still be glibc's and
	// libstdc++'s.
	for lib, names := range map[string][]string{"libc.so.6": {"malloc", "free", "mmap", "sbrk"}, "libstdc++.so.6": {"_Znwm", "_ZdlPv"}} {
		for _, name := range names {
			global, err := purego.Dlsym(purego.RTLD_DEFAULT, name)
			if err != nil {
				continue // not in the global scope at all (libstdc++ unless preloaded)
			}
			if own := ctest.Lookup(t, lib)(name); global != own {
				t.Errorf("%s resolves to %#x in the global scope, not to %s's %#x (TCMalloc's is %#x)", name, global, lib, own, tc(name))
			}
		}
	}
	p := ffi.Slow1(libcMalloc, 100)
	defer ffi.Slow1(libcFree, p)
	if got := int32(ffi.Slow1(ownership, p)); got != 2 {
		t.Errorf("a block from the process's malloc: ownership %d, want 2 (not TCMalloc's)", got)
	}
	l := nalloc.Layout{Size: 100, Align: 8}
	q, err := a.Allocate(l)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Deallocate(q, l)
	if got := int32(ffi.Slow1(ownership, uintptr(q))); got != 1 {
		t.Errorf("a block from the Allocator: ownership %d, want 1 (TCMalloc's)", got)
	}
}

func init() { runtime.LockOSThread() } // keeps the main goroutine, and so TestMain, on the main thread

// TestMain re-executes the test binary with TCMalloc preloaded where
// dlopen cannot give it static TLS (linux/arm64; see tcmalloc.Reexec), and
// runs the tests with the main thread serving OnMainThread.
func TestMain(m *testing.M) {
	if err := tcmalloc.Reexec(); err != nil {
		// The tests that open TCMalloc fail with this error and its fix.
		fmt.Fprintln(os.Stderr, "tcmalloc tests:", err)
	}
	os.Exit(ctest.RunOnMainThread(m))
}

// TestSharedBreak checks that TCMalloc and glibc's main arena can share the
// program break: blocks from both, allocated in turns on the main thread
// (where glibc uses the brk heap), keep their contents, and glibc's heap
// still grows with brk. The log says which of the two moved the break.
func TestSharedBreak(t *testing.T) {
	ctest.OnMainThread(func() { sharedBreak(t) })
}

func sharedBreak(t *testing.T) {
	a := open(t)
	libc := ctest.Lookup(t, "libc.so.6")
	malloc, free := libc("malloc"), libc("free")
	l := nalloc.Layout{Size: 16 << 10, Align: 8}
	type block struct {
		p    uintptr
		fill byte
	}
	var blocks []block
	start := osmem.Break()
	var byTC, byGlibc int64
	for i := range 2000 {
		before := osmem.Break()
		var p uintptr
		if i%2 == 0 {
			q, err := a.Allocate(l)
			if err != nil {
				t.Fatal(err)
			}
			p = uintptr(q)
			byTC += int64(osmem.Break() - before)
		} else {
			p = ffi.Slow1(malloc, l.Size)
			byGlibc += int64(osmem.Break() - before)
		}
		b := unsafe.Slice((*byte)(native.Ptr(p)), l.Size)
		for j := range b {
			b[j] = byte(i)
		}
		blocks = append(blocks, block{p, byte(i)})
	}
	t.Logf("the break moved %d bytes: %d while TCMalloc allocated, %d while glibc did", osmem.Break()-start, byTC, byGlibc)
	for i, b := range blocks {
		for j, c := range unsafe.Slice((*byte)(native.Ptr(b.p)), l.Size) {
			if c != b.fill {
				t.Fatalf("block %d byte %d is %#x, want %#x: the allocators overlap", i, j, c, b.fill)
			}
		}
		if i%2 == 0 {
			a.Deallocate(native.Ptr(b.p), l)
		} else {
			ffi.Slow1(free, b.p)
		}
	}
	if byGlibc <= 0 {
		t.Errorf("glibc's brk heap did not grow: it did not keep using the break")
	}
}

// TestStackUse measures TCMalloc's calls on fresh threads, where the
// first call sets up the thread's cache. docs/backends.md ("Stack") has the figures.
func TestStackUse(t *testing.T) {
	a := open(t)
	sym := ctest.Lookup(t, a.Library())
	malloc, free, memalign, realloc, calloc, size := sym("tc_malloc"), sym("tc_free"), sym("tc_memalign"), sym("tc_realloc"), sym("tc_calloc"), sym("tc_malloc_size")
	m := ctest.NewStackMeter(t, size)
	for thread := range 8 {
		done := make(chan struct{})
		go func() {
			defer close(done)
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			p := m.Call("tc_malloc (first on a thread)", malloc, 64, 0, 0, 0)
			m.Call("tc_free", free, p, 0, 0, 0)
			p = m.Call("tc_memalign", memalign, 4096, 1000, 0, 0)
			p = m.Call("tc_realloc (moves)", realloc, p, 200<<10, 0, 0)
			m.Call("tc_malloc_size", size, p, 0, 0, 0)
			m.Call("tc_free", free, p, 0, 0, 0)
			p = m.Call("tc_calloc", calloc, 1, 100<<10, 0, 0)
			m.Call("tc_free", free, p, 0, 0, 0)
			if thread == 0 {
				// Enough blocks to fill the thread cache and take new
				// spans from the page heap, then freed: the cache
				// overflows into the central lists.
				var ps []uintptr
				for range 2000 {
					ps = append(ps, m.Call("tc_malloc (new spans)", malloc, 4096, 0, 0, 0))
				}
				for _, p := range ps {
					m.Call("tc_free (cache overflow)", free, p, 0, 0, 0)
				}
			}
		}()
		<-done
	}
	m.Check(t)
}
