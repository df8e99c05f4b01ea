// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package glibc_test

import (
	"os"
	"runtime"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/glibc"
	"github.com/nalloc/nalloc/internal/ctest"
	"github.com/nalloc/nalloc/osmem"
)

// These tests show where glibc's memory comes from, through the kernel's
// eyes (package osmem), as the probe command does. They assert mechanisms,
// not figures: in which mapping each block lies (the brk heap or an
// anonymous mapping), and which way the program break moves. Each runs in
// a fresh child process, so that no earlier test has raised glibc's
// dynamic mmap threshold or left free chunks to reuse, and on the main
// thread: glibc gives the main thread the main arena, the one that grows
// with brk; other threads get arenas in mmapped heaps of 64 MiB.
//
// Totals of anonymous mappings are logged but not asserted: other
// threads of the process map memory too (a thread started during the test
// gets a glibc arena and a stack), and the kernel merges adjacent
// anonymous mappings, so N mmapped blocks often show as one mapping.

func init() { runtime.LockOSThread() } // keeps the main goroutine, and so TestMain, on the main thread

func TestMain(m *testing.M) { os.Exit(ctest.RunOnMainThread(m)) }

// onMainThread runs f on the process's main thread.
func onMainThread(f func()) { ctest.OnMainThread(f) }

// allocateN allocates n blocks of size bytes on the main thread, touching
// each, and returns them with the OS view before and after, and how many
// of them lie in the brk heap and in anonymous mappings.
func allocateN(t *testing.T, a *glibc.Allocator, n int, size uintptr) (blocks []unsafe.Pointer, before, after osmem.Snapshot, inHeap, inAnon int) {
	t.Helper()
	l := nalloc.Layout{Size: size, Align: 16}
	var err error
	onMainThread(func() {
		if before, err = osmem.Read(); err != nil {
			return
		}
		for range n {
			var p unsafe.Pointer
			if p, err = a.Allocate(l); err != nil {
				return
			}
			*(*byte)(p) = 1
			blocks = append(blocks, p)
		}
		after, err = osmem.Read()
	})
	if err != nil {
		t.Fatal(err)
	}
	maps, err := osmem.Mappings()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range blocks {
		m, _ := osmem.Find(maps, uintptr(p))
		switch {
		case m.Heap():
			inHeap++
		case m.Anonymous():
			inAnon++
		}
	}
	return blocks, before, after, inHeap, inAnon
}

func TestSmallBlocksMoveTheBreak(t *testing.T) {
	if !inChild(t) {
		return
	}
	const n, size = 4096, 1 << 10
	_, before, after, inHeap, _ := allocateN(t, open(t), n, size)
	d := after.Sub(before)
	t.Logf("%d blocks of %d B: %d in the brk heap; break %+d, anonymous mappings %+d (%+d bytes)",
		n, size, inHeap, d.Break, d.AnonMappings, d.AnonMapped)
	if inHeap != n {
		t.Errorf("%d of %d small blocks lie in the brk heap; want all", inHeap, n)
	}
	if d.Break < n*size/2 {
		t.Errorf("the break moved by %d bytes for %d KiB of small blocks; want about that much", d.Break, n*size>>10)
	}
}

func TestLargeBlocksAreMmapped(t *testing.T) {
	if !inChild(t) {
		return
	}
	const n, size = 16, 1 << 20
	_, before, after, _, inAnon := allocateN(t, open(t), n, size)
	d := after.Sub(before)
	t.Logf("%d blocks of %d B: %d in anonymous mappings; break %+d, anonymous mappings %+d (%+d bytes)",
		n, size, inAnon, d.Break, d.AnonMappings, d.AnonMapped)
	if inAnon != n {
		t.Errorf("%d of %d blocks of 1 MiB lie in anonymous mappings; want all (mmapped)", inAnon, n)
	}
	if d.AnonMapped < n*size {
		t.Errorf("anonymous mappings grew by %d bytes for %d blocks of 1 MiB; want at least %d", d.AnonMapped, n, n*size)
	}
	if d.Break != 0 {
		t.Errorf("the break moved by %d bytes for blocks above the mmap threshold", d.Break)
	}
}

func TestRaisedThresholdMovesTheBreak(t *testing.T) {
	if !inChild(t) {
		return
	}
	a := open(t)
	if err := a.Mallopt(glibc.M_MMAP_THRESHOLD, 4<<20); err != nil {
		t.Fatal(err)
	}
	const n, size = 16, 1 << 20
	_, before, after, inHeap, _ := allocateN(t, a, n, size)
	d := after.Sub(before)
	t.Logf("M_MMAP_THRESHOLD=4MiB, %d blocks of %d B: %d in the brk heap; break %+d, anonymous mappings %+d (%+d bytes)",
		n, size, inHeap, d.Break, d.AnonMappings, d.AnonMapped)
	if inHeap != n {
		t.Errorf("%d of %d blocks of 1 MiB lie in the brk heap with the threshold raised; want all", inHeap, n)
	}
	if d.Break < n*size {
		t.Errorf("the break moved by %d bytes for %d MiB below the raised threshold", d.Break, n)
	}
}

func TestFreeAndPurgeLowerTheBreak(t *testing.T) {
	if !inChild(t) {
		return
	}
	a := open(t)
	const n, size = 4096, 4 << 10
	blocks, before, during, _, _ := allocateN(t, a, n, size)
	var after osmem.Snapshot
	var released bool
	var err error
	onMainThread(func() {
		for _, p := range blocks {
			a.Deallocate(p, nalloc.Layout{Size: size, Align: 16})
		}
		if released, err = a.Trim(0); err == nil {
			after, err = osmem.Read()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("break: %#x before, %#x with %d MiB live, %#x after free and Trim (released %v); RSS %d -> %d -> %d KiB",
		before.Break, during.Break, n*size>>20, after.Break, released, before.RSS>>10, during.RSS>>10, after.RSS>>10)
	if after.Break >= during.Break && after.RSS >= during.RSS {
		t.Errorf("neither the break nor RSS went down after freeing %d MiB and Trim", n*size>>20)
	}
}
