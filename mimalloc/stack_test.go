// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package mimalloc_test

import (
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/nalloc/nalloc/internal/ctest"
	"github.com/nalloc/nalloc/internal/ffi"
	"github.com/nalloc/nalloc/mimalloc"
)

// TestStackUse measures how much stack mimalloc's fast-path calls take on
// fresh threads, where the first mi_malloc sets up the thread's data
// (mimalloc initialises a thread lazily, on its first allocation, on
// whatever stack that call runs on). docs/backends.md ("Stack") has the figures.
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
	m := ctest.NewStackMeter(t, usable)
	measure := m.Call
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
			h := ffi.Slow1(heapNew, 0) // on the slow path, as WithHeap does
			p = measure("mi_heap_malloc (first in a heap)", heapMalloc, h, 64, 0, 0)
			measure("mi_free", free, p, 0, 0, 0)
			ffi.Slow1(heapDestroy, h)
			if thread == 0 {
				// Blocks of 100 KiB (the largest size class below the
				// slow threshold's neighbourhood) until well past a
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
	m.Check(t)
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
	m := ctest.NewStackMeter(t, malloc)
	for _, o := range []mimalloc.Option{mimalloc.ShowErrors, mimalloc.Verbose} {
		if err := a.SetOption(o, 1); err != nil {
			t.Fatal(err)
		}
	}
	m.Call("mi_malloc printing an error", malloc, 1<<62, 0, 0, 0) // "allocation request is too large"
	m.Check(t)
}
