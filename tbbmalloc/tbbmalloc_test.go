// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package tbbmalloc_test

import (
	"errors"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/ctest"
	"github.com/nalloc/nalloc/internal/native"
	"github.com/nalloc/nalloc/nalloctest"
	"github.com/nalloc/nalloc/osmem"
	"github.com/nalloc/nalloc/tbbmalloc"
)

func open(t testing.TB) *tbbmalloc.Allocator {
	t.Helper()
	a, err := tbbmalloc.Open()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestConformance(t *testing.T) {
	nalloctest.Run(t, nalloctest.Config{
		New:         func(t testing.TB) nalloc.Allocator { return open(t) },
		MayAllocate: native.FastPathAllocates,
	})
}

func TestOpen(t *testing.T) {
	a := open(t)
	if b, err := nalloc.Open("tbbmalloc"); err != nil || b != nalloc.Allocator(a) {
		t.Fatalf(`nalloc.Open("tbbmalloc") = %v, %v; want tbbmalloc.Open's allocator`, b, err)
	}
	if _, ok := nalloc.Allocator(a).(nalloc.StatsReporter); ok {
		t.Errorf("the Allocator reports Stats, which tbbmalloc does not keep")
	}
	if _, err := tbbmalloc.OpenLibrary("/nonexistent/libtbbmalloc.so.2"); !errors.Is(err, nalloc.ErrLibraryNotFound) {
		t.Errorf("OpenLibrary of a missing file: %v, want ErrLibraryNotFound", err)
	}
}

func TestTune(t *testing.T) {
	a := open(t)
	for _, c := range []struct{ name, value string }{
		{"TBBMALLOC_SET_SOFT_HEAP_LIMIT", "1GiB"},
		{"set_soft_heap_limit", "0"},
		{"tbbmalloc_use_huge_pages", "false"},
		{"TBBMALLOC_SET_HUGE_SIZE_THRESHOLD", "64MiB"},
	} {
		if err := a.Tune(c.name, c.value); err != nil {
			t.Errorf("Tune(%s, %s): %v", c.name, c.value, err)
		}
	}
	if err := a.Tune("TBBMALLOC_BOGUS", "1"); !errors.Is(err, tbbmalloc.ErrUnknownMode) {
		t.Errorf("Tune of an unknown mode: %v, want ErrUnknownMode", err)
	}
	if err := a.Tune("set_soft_heap_limit", "a lot"); !errors.Is(err, strconv.ErrSyntax) {
		t.Errorf("Tune with a value that is not a number: %v, want strconv.ErrSyntax", err)
	}
	if err := a.SetMode(tbbmalloc.Mode(99), 1); !errors.Is(err, tbbmalloc.ErrRefused) || !strings.Contains(err.Error(), "TBBMALLOC_INVALID_PARAM") {
		t.Errorf("SetMode(99): %v, want ErrRefused naming TBBMALLOC_INVALID_PARAM", err)
	}
}

// TestPurge frees 64 blocks of 1 MiB, which tbbmalloc caches as large
// objects, and checks that after Purge they are given back: the process's
// RSS is at least 32 MiB below what it was with the blocks live. tbbmalloc
// may give some back on Deallocate already, when its large-object cache
// ages them out (seen under qemu-user, where everything is slower), so the
// measure is from the blocks live, not from the moment before Purge; the
// log says which call gave back how much.
func TestPurge(t *testing.T) {
	a := open(t)
	l := nalloc.Layout{Size: 1 << 20, Align: 8}
	var blocks []unsafe.Pointer
	for range 64 {
		p, err := a.Allocate(l)
		if err != nil {
			t.Fatal(err)
		}
		clear(unsafe.Slice((*byte)(p), l.Size)) // resident
		blocks = append(blocks, p)
	}
	rss := func() uint64 { // a failed read fails the test rather than reading as 0
		t.Helper()
		m, err := osmem.ReadCheap()
		if err != nil {
			t.Fatal(err)
		}
		return m.RSS
	}
	held := rss()
	for _, p := range blocks {
		a.Deallocate(p, l)
	}
	freed := rss()
	if err := a.Purge(); err != nil {
		t.Fatal(err)
	}
	if err := a.PurgeThread(); err != nil {
		t.Fatal(err)
	}
	purged := rss()
	t.Logf("RSS %d MiB with 64 MiB live, %d MiB after freeing it, %d MiB after Purge", held>>20, freed>>20, purged>>20)
	if held < purged+32<<20 {
		t.Errorf("after Purge, RSS is %d KiB below what it was with the 64 MiB live; want at least 32 MiB",
			(int64(held)-int64(purged))>>10)
	}
}

// TestStackUse measures tbbmalloc's calls on fresh threads, where the
// first call sets up the thread's bins. docs/backends.md ("Stack") has the figures.
func TestStackUse(t *testing.T) {
	a := open(t)
	sym := ctest.Lookup(t, a.Library())
	malloc, free, aligned, realloc, alignedRealloc := sym("scalable_malloc"), sym("scalable_free"), sym("scalable_aligned_malloc"), sym("scalable_realloc"), sym("scalable_aligned_realloc")
	calloc, msize := sym("scalable_calloc"), sym("scalable_msize")
	m := ctest.NewStackMeter(t, msize)
	for thread := range 8 {
		done := make(chan struct{})
		go func() {
			defer close(done)
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			p := m.Call("scalable_malloc (first on a thread)", malloc, 64, 0, 0, 0)
			m.Call("scalable_free", free, p, 0, 0, 0)
			p = m.Call("scalable_aligned_malloc", aligned, 1000, 4096, 0, 0)
			p = m.Call("scalable_aligned_realloc (moves)", alignedRealloc, p, 100<<10, 64<<10, 0)
			m.Call("scalable_msize", msize, p, 0, 0, 0)
			m.Call("scalable_free", free, p, 0, 0, 0)
			p = m.Call("scalable_calloc", calloc, 1, 200<<10, 0, 0)
			p = m.Call("scalable_realloc (moves)", realloc, p, 250<<10, 0, 0)
			m.Call("scalable_free", free, p, 0, 0, 0)
			if thread == 0 {
				// Enough blocks to take new slabs from the global pool,
				// then freed: the slabs empty and go back.
				var ps []uintptr
				for range 2000 {
					ps = append(ps, m.Call("scalable_malloc (new slabs)", malloc, 4096, 0, 0, 0))
				}
				for _, p := range ps {
					m.Call("scalable_free (slabs emptied)", free, p, 0, 0, 0)
				}
			}
		}()
		<-done
	}
	m.Check(t)
}
