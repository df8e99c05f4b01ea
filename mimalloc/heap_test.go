// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package mimalloc_test

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/mimalloc"
)

// newHeap returns a heap owned by the test's goroutine, ended (destroyed
// if still open, and the thread unlocked) when the test ends.
func newHeap(t testing.TB, a *mimalloc.Allocator) *mimalloc.Heap {
	t.Helper()
	h, end, err := mimalloc.HeapWithEnd(a)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := end(); err != nil {
			t.Error(err)
		}
	})
	return h
}

// processRSS reads the resident set of the process from /proc/self/statm.
func processRSS(t testing.TB) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc/self/statm: %v", err)
	}
	f := strings.Fields(string(b))
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return pages * uint64(os.Getpagesize())
}

// TestHeapDestroyReleases fills a heap with 64 MiB in blocks of several
// sizes, checks that the heap's Stats count them and that mimalloc's
// commit and the process's RSS grew by as much, then destroys the heap
// without freeing a single block and checks that the memory is gone:
// commit and RSS fall back (Purge, mi_collect(true), skips mimalloc's decommit delay).
func TestHeapDestroyReleases(t *testing.T) {
	a := open(t)
	a.Purge()
	commit0, rss0 := a.ProcessInfo().CurrentCommit, processRSS(t)

	h := newHeap(t, a)
	const total = 64 << 20
	var live uintptr
	for i := 0; live < total; i++ {
		size := []uintptr{48, 1000, 20 << 10, 300 << 10, 5 << 20}[i%5]
		p, err := h.Allocate(nalloc.Layout{Size: size, Align: 8})
		if err != nil {
			t.Fatal(err)
		}
		clear(unsafe.Slice((*byte)(p), size)) // make it resident
		live += size
	}
	// A block of the Allocator is not the heap's.
	other := nalloc.Layout{Size: 8 << 20, Align: 8}
	p, err := a.Allocate(other)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Deallocate(p, other)

	hs, err := h.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if hs.Allocated < uint64(live) || hs.Allocated > uint64(live)+uint64(live)/4 {
		t.Errorf("heap Stats.Allocated = %d with %d bytes live in it, want that plus size-class rounding", hs.Allocated, live)
	}
	if hs.Active < hs.Allocated || hs.Mapped < hs.Active {
		t.Errorf("heap Stats = %+v, want Allocated <= Active <= Mapped", hs)
	}
	commit1, rss1 := a.ProcessInfo().CurrentCommit, processRSS(t)
	if commit1 < commit0+int64(live)*3/4 {
		t.Errorf("mimalloc's commit went from %d to %d with %d bytes live in the heap", commit0, commit1, live)
	}
	if rss1 < rss0+uint64(live)/2 {
		t.Errorf("RSS went from %d to %d with %d bytes live in the heap", rss0, rss1, live)
	}

	if err := h.Destroy(); err != nil {
		t.Fatal(err)
	}
	a.Purge()
	commit2, rss2 := a.ProcessInfo().CurrentCommit, processRSS(t)
	t.Logf("heap of %d bytes: commit %d -> %d -> %d, RSS %d -> %d -> %d", live, commit0, commit1, commit2, rss0, rss1, rss2)
	if commit2 > commit1-int64(live)*3/4 {
		t.Errorf("mimalloc's commit went from %d to %d when the heap of %d bytes was destroyed", commit1, commit2, live)
	}
	if rss2 > rss1-uint64(live)/2 {
		t.Errorf("RSS went from %d to %d when the heap of %d bytes was destroyed", rss1, rss2, live)
	}
}

// TestHeapStatsAttribute checks that two heaps on one thread each count
// their own blocks only, and that freeing a block shows.
func TestHeapStatsAttribute(t *testing.T) {
	a := open(t)
	h1, h2 := newHeap(t, a), newHeap(t, a)
	alloc := func(h *mimalloc.Heap, n int, size uintptr) []unsafe.Pointer {
		var ps []unsafe.Pointer
		for range n {
			p, err := h.Allocate(nalloc.Layout{Size: size, Align: 16})
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p)
		}
		return ps
	}
	ps1 := alloc(h1, 1000, 4096) // 4 MB
	alloc(h2, 100, 1024)         // 100 KB
	s1, _ := h1.Stats()
	s2, _ := h2.Stats()
	if s1.Allocated != 1000*4096 || s2.Allocated != 100*1024 {
		t.Errorf("heap Stats.Allocated = %d and %d, want %d and %d (sizes that are size classes)", s1.Allocated, s2.Allocated, 1000*4096, 100*1024)
	}
	for _, p := range ps1[:500] {
		h1.Deallocate(p, nalloc.Layout{Size: 4096, Align: 16})
	}
	if s, _ := h1.Stats(); s.Allocated != 500*4096 {
		t.Errorf("after freeing half: heap Stats.Allocated = %d, want %d", s.Allocated, 500*4096)
	}
}

// TestHeapPurge fills a heap with 32 MiB of 8 KiB blocks, frees them,
// and checks that Purge gives the memory back to the OS:
// mimalloc's commit falls by most of it (freed pages otherwise stay
// committed for a while, DecommitDelay, for reuse).
func TestHeapPurge(t *testing.T) {
	a := open(t)
	h := newHeap(t, a)
	a.Purge()
	commit0 := a.ProcessInfo().CurrentCommit
	l := nalloc.Layout{Size: 8 << 10, Align: 8}
	var ps []unsafe.Pointer
	for range 4096 {
		p, err := h.Allocate(l)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	commit1 := a.ProcessInfo().CurrentCommit
	for _, p := range ps {
		h.Deallocate(p, l)
	}
	commit2 := a.ProcessInfo().CurrentCommit
	if err := h.Purge(); err != nil {
		t.Fatal(err)
	}
	commit3 := a.ProcessInfo().CurrentCommit
	t.Logf("commit: %d before, %d with 32 MiB live, %d after freeing it, %d after Purge", commit0, commit1, commit2, commit3)
	if commit1 < commit0+32<<20 || commit3 > commit1-24<<20 {
		t.Errorf("Purge did not return the freed memory: commit %d -> %d -> %d -> %d", commit0, commit1, commit2, commit3)
	}
	if s, _ := h.Stats(); s.Allocated != 0 || s.Active != 0 {
		t.Errorf("heap Stats = %+v with no block live, want no pages", s)
	}
}

// TestHeapWrongThread uses a heap from a goroutine that does not own it:
// every call that mimalloc restricts to the owner thread is refused with
// ErrWrongThread and does nothing; Deallocate and UsableSize work.
func TestHeapWrongThread(t *testing.T) {
	a := open(t)
	h := newHeap(t, a)
	l := nalloc.Layout{Size: 100, Align: 8}
	p, err := h.Allocate(l)
	if err != nil {
		t.Fatal(err)
	}
	fillBytes(p, l.Size, 9)
	q, err := h.Allocate(l)
	if err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	wg.Go(func() {
		// Not locked: this goroutine may even run on the owner's thread
		// later, which the owner, being locked to it, never lets happen.
		big := nalloc.Layout{Size: 1 << 20, Align: 8} // the slow path
		for _, l := range []nalloc.Layout{l, big, {Size: 100, Align: 64}} {
			if r, err := h.Allocate(l); !errors.Is(err, mimalloc.ErrWrongThread) || r != nil {
				t.Errorf("Allocate(%v) off the owner thread = %p, %v; want ErrWrongThread", l, r, err)
			}
			if r, err := h.AllocateZeroed(l); !errors.Is(err, mimalloc.ErrWrongThread) || r != nil {
				t.Errorf("AllocateZeroed(%v) off the owner thread = %p, %v; want ErrWrongThread", l, r, err)
			}
		}
		for _, n := range []nalloc.Layout{{Size: 5000, Align: 8}, {Size: 5000, Align: 4096}, {Size: 2 << 20, Align: 8}} {
			if r, err := h.Grow(p, l, n); !errors.Is(err, mimalloc.ErrWrongThread) || r != nil {
				t.Errorf("Grow(%v -> %v) off the owner thread = %p, %v; want ErrWrongThread", l, n, r, err)
			}
		}
		if r, err := h.Shrink(p, l, nalloc.Layout{Size: 10, Align: 8}); !errors.Is(err, mimalloc.ErrWrongThread) || r != nil {
			t.Errorf("Shrink off the owner thread = %p, %v; want ErrWrongThread", r, err)
		}
		if _, err := h.Stats(); !errors.Is(err, mimalloc.ErrWrongThread) {
			t.Errorf("Stats off the owner thread: err = %v, want ErrWrongThread", err)
		}
		if err := h.Purge(); !errors.Is(err, mimalloc.ErrWrongThread) {
			t.Errorf("Purge off the owner thread: err = %v, want ErrWrongThread", err)
		}
		if err := h.Destroy(); !errors.Is(err, mimalloc.ErrWrongThread) {
			t.Errorf("Destroy off the owner thread: err = %v, want ErrWrongThread", err)
		}
		if err := h.Retire(); !errors.Is(err, mimalloc.ErrWrongThread) {
			t.Errorf("Retire off the owner thread: err = %v, want ErrWrongThread", err)
		}
		if n := h.UsableSize(q); n < l.Size {
			t.Errorf("UsableSize off the owner thread = %d", n)
		}
		h.Deallocate(q, l) // allowed from any thread
	})
	wg.Wait()
	if i := checkBytes(p, l.Size, 9); i >= 0 {
		t.Fatalf("the block changed at byte %d after refused calls", i)
	}
	// The owner still can.
	r, err := h.Grow(p, l, nalloc.Layout{Size: 5000, Align: 4096})
	if err != nil {
		t.Fatal(err)
	}
	h.Deallocate(r, nalloc.Layout{Size: 5000, Align: 4096})
	// The block freed from another thread counts until the heap collects
	// it (see Heap.Stats).
	if err := h.Purge(); err != nil {
		t.Fatal(err)
	}
	if s, _ := h.Stats(); s.Allocated != 0 {
		t.Errorf("heap Stats.Allocated = %d after every block was freed (one from another goroutine) and collected, want 0", s.Allocated)
	}
}

// TestHeapClosed checks the calls after Destroy and after Retire.
func TestHeapClosed(t *testing.T) {
	a := open(t)
	l := nalloc.Layout{Size: 1000, Align: 8}

	h := newHeap(t, a)
	p, err := h.Allocate(l)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Destroy(); err != nil {
		t.Fatal(err)
	}
	h.Deallocate(p, l) // the block is gone: must do nothing
	if n := h.UsableSize(p); n != 0 {
		t.Errorf("UsableSize after Destroy = %d, want 0", n)
	}
	if q, err := h.Allocate(l); !errors.Is(err, mimalloc.ErrHeapClosed) || q != nil {
		t.Errorf("Allocate after Destroy = %p, %v; want ErrHeapClosed", q, err)
	}
	if err := h.Destroy(); !errors.Is(err, mimalloc.ErrHeapClosed) {
		t.Errorf("second Destroy: err = %v, want ErrHeapClosed", err)
	}

	// Retire keeps the blocks, which stay valid and are freed as usual.
	h = newHeap(t, a)
	var ps []unsafe.Pointer
	for i := range 100 {
		p, err := h.Allocate(l)
		if err != nil {
			t.Fatal(err)
		}
		fillBytes(p, l.Size, byte(i))
		ps = append(ps, p)
	}
	if err := h.Retire(); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Stats(); !errors.Is(err, mimalloc.ErrHeapClosed) {
		t.Errorf("Stats after Retire: err = %v, want ErrHeapClosed", err)
	}
	for i, p := range ps {
		if j := checkBytes(p, l.Size, byte(i)); j >= 0 {
			t.Fatalf("block %d changed at byte %d after Retire", i, j)
		}
		if n := h.UsableSize(p); n < l.Size {
			t.Errorf("UsableSize after Retire = %d", n)
		}
		h.Deallocate(p, l)
	}
}

// TestWithHeapGoexit ends the heap's goroutine in the middle of
// WithHeap's function (runtime.Goexit, as t.FailNow does). The heap must
// still be destroyed, on its own thread before the thread ends, and its
// 64 MiB given back; afterwards the Heap refuses every call with
// ErrHeapClosed, from any goroutine. (With the NewHeap of before, a heap
// whose goroutine ended could never be destroyed: Destroy returned
// ErrWrongThread forever and the blocks stayed.)
func TestWithHeapGoexit(t *testing.T) {
	a := open(t)
	a.Purge()
	commit0 := a.ProcessInfo().CurrentCommit
	l := nalloc.Layout{Size: 1 << 20, Align: 8}
	var h *mimalloc.Heap
	var commit1 int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.WithHeap(func(heap *mimalloc.Heap) error {
			h = heap
			for range 64 {
				p, err := h.Allocate(l)
				if err != nil {
					t.Error(err)
					break
				}
				clear(unsafe.Slice((*byte)(p), l.Size))
			}
			commit1 = a.ProcessInfo().CurrentCommit
			runtime.Goexit()
			return nil
		})
		t.Error("WithHeap returned after runtime.Goexit")
	}()
	<-done
	if q, err := h.Allocate(nalloc.Layout{Size: 64, Align: 8}); !errors.Is(err, mimalloc.ErrHeapClosed) || q != nil {
		t.Errorf("Allocate after the heap's goroutine ended = %p, %v; want ErrHeapClosed", q, err)
	}
	if err := h.Destroy(); !errors.Is(err, mimalloc.ErrHeapClosed) {
		t.Errorf("Destroy after the heap's goroutine ended: err = %v, want ErrHeapClosed (already destroyed)", err)
	}
	// The heap's segments go back once its thread has ended too, which
	// happens after done is closed: wait for it, within reason.
	var commit2 int64
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		a.Purge()
		if commit2 = a.ProcessInfo().CurrentCommit; commit2 <= commit1-48<<20 || time.Now().After(deadline) {
			break
		}
	}
	t.Logf("commit %d before, %d with 64 MiB in the heap, %d after its goroutine ended", commit0, commit1, commit2)
	if commit1 < commit0+48<<20 || commit2 > commit1-48<<20 {
		t.Errorf("the heap's 64 MiB were not given back when its goroutine ended: commit %d -> %d -> %d", commit0, commit1, commit2)
	}
}

// TestWithHeapPanic: a panic in WithHeap's function destroys the heap on
// the way out and goes on.
func TestWithHeapPanic(t *testing.T) {
	a := open(t)
	var h *mimalloc.Heap
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recover() = %v, want the function's panic", r)
			}
		}()
		a.WithHeap(func(heap *mimalloc.Heap) error {
			h = heap
			if _, err := h.Allocate(nalloc.Layout{Size: 100, Align: 8}); err != nil {
				t.Error(err)
			}
			panic("boom")
		})
	}()
	if err := h.Purge(); !errors.Is(err, mimalloc.ErrHeapClosed) {
		t.Errorf("Purge after a panic left WithHeap: err = %v, want ErrHeapClosed", err)
	}
}

// TestHeapGuardAfterThreadEnds ends the owner goroutine of a heap made
// without WithHeap (the tests' NewHeap), without ending the heap. Go ends
// its locked thread, and mimalloc deletes the heap (its blocks move to
// the abandoned pool and stay valid). The Heap must then refuse every
// call but Deallocate, from any thread, including new threads that get
// the dead thread's pthread_t: the guard's thread tokens are never
// reused.
func TestHeapGuardAfterThreadEnds(t *testing.T) {
	a := open(t)
	l := nalloc.Layout{Size: 1000, Align: 8}
	type result struct {
		h *mimalloc.Heap
		p unsafe.Pointer
	}
	ch := make(chan result)
	go func() {
		h, err := a.NewHeap() // locks this goroutine; it ends without unlocking
		if err != nil {
			t.Error(err)
			close(ch)
			return
		}
		p, err := h.Allocate(l)
		if err != nil {
			t.Error(err)
		}
		fillBytes(p, l.Size, 3)
		ch <- result{h, p}
	}()
	r, ok := <-ch
	if !ok {
		return
	}
	// New locked goroutines make new threads, some of which may reuse
	// the dead thread's stack and pthread_t.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			runtime.LockOSThread() // ends with its thread too
			if q, err := r.h.Allocate(l); !errors.Is(err, mimalloc.ErrWrongThread) {
				t.Errorf("Allocate on a new thread after the owner ended = %p, %v; want ErrWrongThread", q, err)
			}
		})
	}
	wg.Wait()
	if i := checkBytes(r.p, l.Size, 3); i >= 0 {
		t.Fatalf("the block changed at byte %d after its thread ended", i)
	}
	r.h.Deallocate(r.p, l)
}

// NewHeap's heap is ended by its goroutine: Destroy frees it and unlocks
// the thread, after which the Heap refuses every call but Deallocate.
func TestNewHeapDestroy(t *testing.T) {
	a := open(t)
	done := make(chan error)
	go func() {
		h, err := a.NewHeap()
		if err != nil {
			done <- err
			return
		}
		l := nalloc.Layout{Size: 4096, Align: 64}
		if _, err := h.Allocate(l); err != nil {
			done <- err
			return
		}
		if err := h.Destroy(); err != nil {
			done <- err
			return
		}
		if _, err := h.Allocate(l); !errors.Is(err, mimalloc.ErrHeapClosed) {
			done <- fmt.Errorf("Allocate after Destroy = %v, want ErrHeapClosed", err)
			return
		}
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
