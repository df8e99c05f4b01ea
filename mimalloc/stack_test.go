// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package mimalloc_test

import (
	"os"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/nalloc/nalloc/internal/ctest"
	"github.com/nalloc/nalloc/internal/ffi"
	"github.com/nalloc/nalloc/mimalloc"
)

// TestStackUse measures how much stack mimalloc's fast-path calls take on
// fresh threads, where the first mi_malloc sets up the thread's data
// (mimalloc initialises a thread lazily, on its first allocation, and that
// first call runs on the direct path like any other), and checks that the
// worst case stays under half the direct path's frame. The package doc
// quotes the figures.
//
// The calls are measured on each of 8 new threads, in the order a program
// would make them: the first malloc, free, aligned and zeroed allocations,
// an aligned resize that moves the block, a first allocation in a new heap;
// and on one of them, enough blocks to need new pages and a new segment
// from the OS, then freed.
func TestStackUse(t *testing.T) {
	a := open(t)
	sym := ctest.Lookup(t, a.Library())
	malloc, free, zallocAligned := sym("mi_malloc"), sym("mi_free"), sym("mi_zalloc_aligned")
	mallocAlignedAt, reallocAlignedAt := sym("mi_malloc_aligned_at"), sym("mi_realloc_aligned_at")
	usable, heapNew, heapMalloc, heapDestroy := sym("mi_usable_size"), sym("mi_heap_new"), sym("mi_heap_malloc"), sym("mi_heap_destroy")
	if _, _, ok := ffi.StackUse(usable, 0, 0, 0, 0); !ok {
		t.Skip("no stack measurement in this build")
	}
	worst := map[string]uintptr{}
	measure := func(name string, fn, a0, a1, a2, a3 uintptr) uintptr {
		r, used, _ := ffi.StackUse(fn, a0, a1, a2, a3)
		worst[name] = max(worst[name], used)
		return r
	}
	for thread := range 8 {
		done := make(chan struct{})
		go func() {
			defer close(done)
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			p := measure("mi_malloc (first on a thread)", malloc, 64, 0, 0, 0)
			measure("mi_free", free, p, 0, 0, 0)
			p = measure("mi_malloc_aligned_at", mallocAlignedAt, 1000, 4096, 0, 0)
			p = measure("mi_realloc_aligned_at (moves)", reallocAlignedAt, p, 100000, 64<<10, 0)
			measure("mi_usable_size", usable, p, 0, 0, 0)
			measure("mi_free", free, p, 0, 0, 0)
			p = measure("mi_zalloc_aligned", zallocAligned, 200<<10, 64, 0, 0)
			measure("mi_free", free, p, 0, 0, 0)
			h := ffi.Block1(heapNew, 0) // on the blocking path, as NewHeap does
			p = measure("mi_heap_malloc (first in a heap)", heapMalloc, h, 64, 0, 0)
			measure("mi_free", free, p, 0, 0, 0)
			ffi.Block1(heapDestroy, h)
			if thread == 0 {
				// Blocks of 100 KiB (the largest size class below the
				// blocking threshold's neighbourhood) until well past a
				// new segment (32 MiB), each needing a page; then free
				// them, emptying pages and segments.
				var ps []uintptr
				for range 400 {
					ps = append(ps, measure("mi_malloc (new pages, segments)", malloc, 100<<10, 0, 0, 0))
				}
				for _, p := range ps {
					measure("mi_free (pages emptied)", free, p, 0, 0, 0)
				}
			}
		}()
		<-done
	}
	names := make([]string, 0, len(worst))
	for name := range worst {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		used := worst[name]
		t.Logf("%-35s %5d bytes of stack", name, used)
		if used == 0 || used > ffi.MinSystemStack/2 {
			t.Errorf("%s used %d bytes of stack; half the smallest system stack is %d", name, used, ffi.MinSystemStack/2)
		}
	}
}

// TestStackUseMessages measures the deepest path mimalloc's fast-path
// calls can take: printing a message (a warning or an error, with
// ShowErrors or Verbose on), which formats it in a 512-byte buffer with
// vsnprintf and writes it with fputs. An allocation that mimalloc refuses
// with an error message runs that path.
func TestStackUseMessages(t *testing.T) {
	if os.Getenv("NALLOC_MIMALLOC_MESSAGES_CHILD") != "1" {
		out := runChild(t, "TestStackUseMessages", "NALLOC_MIMALLOC_MESSAGES_CHILD=1")
		for _, line := range strings.Split(out, "\n") {
			if i := strings.Index(line, "mi_malloc printing"); i >= 0 {
				t.Log(line[i:])
			}
		}
		return
	}
	a := open(t)
	lib, err := ffi.Load(a.Library())
	if err != nil {
		t.Fatal(err)
	}
	malloc, err := lib.Symbol("mi_malloc")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := ffi.StackUse(malloc, 1, 0, 0, 0); !ok {
		t.Skip("no stack measurement in this build")
	}
	for _, o := range []mimalloc.Option{mimalloc.ShowErrors, mimalloc.Verbose} {
		if err := a.SetOption(o, 1); err != nil {
			t.Fatal(err)
		}
	}
	_, used, _ := ffi.StackUse(malloc, 1<<62, 0, 0, 0) // "allocation request is too large"
	t.Logf("mi_malloc printing an error: %d bytes of stack", used)
	if used > ffi.MinSystemStack/2 {
		t.Errorf("mi_malloc printing an error used %d bytes of stack; half the smallest system stack is %d", used, ffi.MinSystemStack/2)
	}
}
