// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package jemalloc_test

import (
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/jemalloc"
)

func arenaStats(t *testing.T, ar *jemalloc.Heap) jemalloc.HeapStats {
	t.Helper()
	s, err := ar.DetailedStats()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func stats(t *testing.T, a *jemalloc.Allocator) nalloc.Stats {
	t.Helper()
	s, err := a.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rss returns the process's resident set in bytes (/proc/self/statm).
func rss(t *testing.T) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skip(err)
	}
	f := strings.Fields(string(b))
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return pages * uint64(os.Getpagesize())
}

type held struct {
	p unsafe.Pointer
	l nalloc.Layout
}

// fillArena allocates small and large blocks in al and writes every
// byte, so that the pages are resident.
func fillArena(t *testing.T, al nalloc.Allocator, small, large int) []held {
	t.Helper()
	var hs []held
	for i := range small + large {
		l := nalloc.Layout{Size: 1000, Align: 8}
		if i >= small {
			l = nalloc.Layout{Size: 1 << 20, Align: 64}
		}
		p, err := al.Allocate(l)
		if err != nil {
			t.Fatal(err)
		}
		b := unsafe.Slice((*byte)(p), l.Size)
		for j := range b {
			b[j] = byte(j)
		}
		hs = append(hs, held{p, l})
	}
	return hs
}

// TestArenaAttributesAndPurges shows an arena's memory in its own
// figures, exactly, and nowhere else: blocks in one arena do not show in
// another; freed, they become dirty pages; Purge returns those to the OS,
// in the arena's figures and in the process's resident set.
func TestArenaAttributesAndPurges(t *testing.T) {
	a := open(t)
	ar, other := newHeap(t), newHeap(t)
	if ar.Index() == other.Index() {
		t.Fatalf("two arenas with index %d", ar.Index())
	}
	const small, large = 2000, 32
	hs := fillArena(t, ar, small, large)

	s := arenaStats(t, ar)
	smallClass := a.SizeClass(nalloc.Layout{Size: 1000, Align: 8})
	largeClass := a.SizeClass(nalloc.Layout{Size: 1 << 20, Align: 64})
	// No thread cache sits between the arena and its blocks
	// (MALLOCX_TCACHE_NONE), so the figures are exact.
	if s.Small != small*uint64(smallClass) || s.Large != large*uint64(largeClass) || s.Allocated != s.Small+s.Large {
		t.Errorf("with %d blocks of %d and %d of %d live: small.allocated %d, large.allocated %d, Allocated %d",
			small, smallClass, large, largeClass, s.Small, s.Large, s.Allocated)
	}
	if s.Active < s.Allocated || s.Resident < s.Active || s.Mapped < s.Active || s.Metadata == 0 {
		t.Errorf("inconsistent arena figures: %+v", s)
	}
	if o := arenaStats(t, other); o.Allocated != 0 || o.Active != 0 {
		t.Errorf("an untouched arena reports Allocated %d, Active %d", o.Allocated, o.Active)
	}

	for _, h := range hs {
		ar.Deallocate(h.p, h.l)
	}
	freed := arenaStats(t, ar)
	if freed.Allocated != 0 || freed.Active != 0 {
		t.Errorf("after freeing every block: Allocated %d, Active %d; want 0", freed.Allocated, freed.Active)
	}
	if want := s.Active * 9 / 10; freed.Dirty < want {
		t.Errorf("after freeing %d active bytes, only %d are dirty (decay is 10 s by default)", s.Active, freed.Dirty)
	}

	rssBefore := rss(t)
	if err := ar.Purge(); err != nil {
		t.Fatal(err)
	}
	purged := arenaStats(t, ar)
	rssAfter := rss(t)
	t.Logf("arena %d: live %d B small + %d B large, active %d; freed: dirty %d, resident %d; purged: dirty %d, resident %d; process RSS %d -> %d",
		ar.Index(), s.Small, s.Large, s.Active, freed.Dirty, freed.Resident, purged.Dirty, purged.Resident, rssBefore, rssAfter)
	if purged.Dirty != 0 || purged.Resident+freed.Dirty > freed.Resident {
		t.Errorf("Purge: dirty %d -> %d, resident %d -> %d; want dirty 0 and resident down by the dirty bytes",
			freed.Dirty, purged.Dirty, freed.Resident, purged.Resident)
	}
	if rssAfter+freed.Dirty/2 > rssBefore {
		t.Errorf("Purge of %d dirty bytes: the process's RSS went from %d to %d", freed.Dirty, rssBefore, rssAfter)
	}
}

// TestArenaDestroyReleases shows Destroy giving back everything the arena
// held, live blocks included: jemalloc's figures for the whole process
// drop by the arena's, and so does the process's resident set.
func TestArenaDestroyReleases(t *testing.T) {
	a := open(t)
	ar, err := a.NewHeap()
	if err != nil {
		t.Fatal(err)
	}
	const large = 64 // MiB
	fillArena(t, ar, 1000, large)
	s := arenaStats(t, ar)
	before, rssBefore := stats(t, a), rss(t)
	if err := ar.Destroy(); err != nil {
		t.Fatal(err)
	}
	after, rssAfter := stats(t, a), rss(t)
	t.Logf("arena with %d B allocated, %d mapped; process: allocated %d -> %d, mapped+retained %d -> %d, RSS %d -> %d",
		s.Allocated, s.Mapped, before.Allocated, after.Allocated,
		before.Mapped+before.Retained, after.Mapped+after.Retained, rssBefore, rssAfter)
	if before.Allocated-after.Allocated < s.Allocated*9/10 {
		t.Errorf("Destroy of an arena with %d bytes live: stats.allocated went from %d to %d", s.Allocated, before.Allocated, after.Allocated)
	}
	if before.Mapped+before.Retained-(after.Mapped+after.Retained) < s.Large {
		t.Errorf("Destroy did not unmap the arena's %d bytes of large blocks", s.Large)
	}
	if rssAfter+large<<20/2 > rssBefore {
		t.Errorf("Destroy of an arena with %d MiB touched: the process's RSS went from %d to %d", large, rssBefore, rssAfter)
	}
}

// TestArenaRefusesAfterDestroy checks that a destroyed Arena answers
// every call with ErrHeapClosed (Deallocate by doing nothing), even
// when jemalloc has given its index to a new arena.
func TestArenaRefusesAfterDestroy(t *testing.T) {
	a := open(t)
	ar, err := a.NewHeap()
	if err != nil {
		t.Fatal(err)
	}
	l := nalloc.Layout{Size: 100, Align: 8}
	p, err := ar.Allocate(l)
	if err != nil {
		t.Fatal(err)
	}
	if err := ar.Destroy(); err != nil {
		t.Fatal(err)
	}
	next := newHeap(t) // may well get the same index
	t.Logf("destroyed arena %d; the next one is %d", ar.Index(), next.Index())

	ar.Deallocate(p, l) // nothing: p went with the arena
	big := nalloc.Layout{Size: 200, Align: 8}
	calls := map[string]func() error{
		"Allocate":       func() error { _, err := ar.Allocate(l); return err },
		"AllocateZeroed": func() error { _, err := nalloc.AllocateZeroed(ar, l); return err },
		"Grow":           func() error { _, err := ar.Grow(p, l, big); return err },
		"GrowZeroed":     func() error { _, err := nalloc.GrowZeroed(ar, p, l, big); return err },
		"Shrink":         func() error { _, err := ar.Shrink(p, big, l); return err },
		"ResizeInPlace":  func() error { _, err := ar.ResizeInPlace(p, l, big); return err },
		"Purge":          ar.Purge,
		"Stats":          func() error { _, err := ar.Stats(); return err },
		"Destroy":        ar.Destroy,
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, jemalloc.ErrHeapClosed) {
			t.Errorf("%s after Destroy: err = %v, want ErrHeapClosed", name, err)
		}
	}
	if n := ar.UsableSize(p); n != 0 {
		t.Errorf("UsableSize after Destroy = %d", n)
	}
	// The arena that has the index now is untouched by all this.
	if s := arenaStats(t, next); s.Allocated != 0 {
		t.Errorf("the new arena %d has %d bytes allocated", next.Index(), s.Allocated)
	}
	q, err := next.Allocate(l)
	if err != nil {
		t.Fatal(err)
	}
	next.Deallocate(q, l)
}

// TestArenaDestroyWhileInUse destroys an arena while goroutines allocate
// from it: Destroy waits for the calls in progress, and every call after
// it is refused; nothing reaches jemalloc with a destroyed index (which
// would re-create the arena behind nalloc's back). Run it with -race.
func TestArenaDestroyWhileInUse(t *testing.T) {
	a := open(t)
	ar, err := a.NewHeap()
	if err != nil {
		t.Fatal(err)
	}
	var ops atomic.Int64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			l := nalloc.Layout{Size: uintptr(16 + w*100), Align: 8}
			for {
				p, err := ar.Allocate(l)
				if errors.Is(err, jemalloc.ErrHeapClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				// The block is not touched: Destroy may free it at any
				// moment now; only calls into the Arena are safe.
				ar.Deallocate(p, l)
				ops.Add(1)
			}
		})
	}
	for ops.Load() < 1000 {
		// Let the workers get going; they never stop by themselves.
		runtime.Gosched()
	}
	if err := ar.Destroy(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	t.Logf("%d allocations before Destroy", ops.Load())
}
