// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package mimalloc

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/native"
)

// Heap errors.
var (
	// ErrWrongThread: a Heap was used from another OS thread than the one
	// it belongs to, which mimalloc does not allow. The call did nothing.
	ErrWrongThread = errors.New("mimalloc: heap used off its owner thread")
	// ErrHeapClosed: the Heap was destroyed or deleted.
	ErrHeapClosed = errors.New("mimalloc: heap closed")
)

// Heap is a mimalloc heap (mi_heap_t) behind the nalloc.Allocator
// interface: a group of blocks that Destroy frees all at once, and whose
// memory Stats attributes to it. Get one from Allocator.NewHeap; the zero
// value is not usable, and a Heap must not be copied.
//
// # One thread
//
// mimalloc lets only the thread that created a heap allocate from it,
// resize its blocks, collect or destroy it; any thread may free its blocks
// (mi_free). Go moves goroutines between threads at will, so NewHeap locks
// the calling goroutine to its OS thread (runtime.LockOSThread) and Destroy
// or Delete unlock it again: between the two, the Heap belongs to that
// goroutine, like a held lock. Allocate, AllocateZeroed, Grow, Shrink,
// Purge, Stats, Destroy and Delete check on each call that they run on
// the owner thread and return an error wrapping ErrWrongThread otherwise,
// having done nothing: misuse is an error, never a corrupted heap.
// Deallocate and UsableSize work from any goroutine.
//
// The check is a thread token that no other thread ever has, compared in
// the same C call as the mimalloc function it guards, so the goroutine
// cannot change threads in between (internal/native's Guard). It costs a
// few nanoseconds a call; the README has the figures.
//
// A goroutine that ends without Destroy or Delete ends its thread (Go's
// rule for locked goroutines); mimalloc then deletes the heap, keeping its
// blocks alive, and the Heap refuses every call but Deallocate.
//
// Not safe for concurrent use, except Deallocate and UsableSize; every
// other goroutine must be done with the Heap's blocks before Destroy.
type Heap struct {
	a      *Allocator
	m      native.Malloc // the heap's calls, guarded
	guard  *native.Guard
	heap   uintptr // mi_heap_t*; dangling once closed, never passed to C then
	closed atomic.Uint32
}

var _ interface {
	nalloc.Allocator
	nalloc.ZeroAllocator
	nalloc.UsableSizer
	nalloc.StatsReporter
	nalloc.Purger
} = (*Heap)(nil)

// Values of Heap.closed.
const (
	heapOpen = iota
	heapDeleted
	heapDestroyed
)

// NewHeap creates a heap (mi_heap_new) owned by the calling goroutine,
// which it locks to its OS thread until Destroy or Delete. See Heap for
// the rules. The heap must be closed with Destroy (frees every block in
// it) or Delete (keeps them) on the same goroutine.
func (a *Allocator) NewHeap() (*Heap, error) {
	h := &Heap{a: a}
	guard, err := native.LockThread(h.refused)
	if err != nil {
		return nil, fmt.Errorf("mimalloc: heaps: %w", err)
	}
	h.guard = guard
	if h.heap = native.Slow1(a.heapNew, 0); h.heap == 0 {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("%w: mimalloc: mi_heap_new failed", nalloc.ErrOutOfMemory)
	}
	if h.m, err = native.OnHeap(&a.Malloc, heapSpec, h.heap, guard, "mimalloc heap"); err != nil {
		native.Slow1(a.heapDelete, h.heap)
		runtime.UnlockOSThread()
		return nil, err
	}
	return h, nil
}

// refused explains why a call did nothing.
func (h *Heap) refused(op string) error {
	switch h.closed.Load() {
	case heapDestroyed:
		return fmt.Errorf("%w: %s after Destroy", ErrHeapClosed, op)
	case heapDeleted:
		return fmt.Errorf("%w: %s after Delete", ErrHeapClosed, op)
	}
	return fmt.Errorf("%w: %s: a Heap may be used only by the goroutine that created it "+
		"(NewHeap locked it to its OS thread, and Destroy or Delete unlock it); "+
		"Deallocate and UsableSize work from any goroutine", ErrWrongThread, op)
}

// open returns nil if the heap may still be used, or why not.
func (h *Heap) open(op string) error {
	if h.closed.Load() != heapOpen {
		return h.refused(op)
	}
	return nil
}

// Allocate returns a block from the heap (mi_heap_malloc, or
// mi_heap_malloc_aligned_at for alignments above what it gives). It is
// freed by Deallocate, or with every other block by Destroy.
func (h *Heap) Allocate(l nalloc.Layout) (unsafe.Pointer, error) {
	if err := h.open("Allocate"); err != nil {
		return nil, err
	}
	return h.m.Allocate(l)
}

// AllocateZeroed is Allocate with the block zero-filled (mi_heap_zalloc,
// mi_heap_zalloc_aligned_at).
func (h *Heap) AllocateZeroed(l nalloc.Layout) (unsafe.Pointer, error) {
	if err := h.open("AllocateZeroed"); err != nil {
		return nil, err
	}
	return h.m.AllocateZeroed(l)
}

// Deallocate frees a block of the heap with mi_free, from any goroutine.
// After Destroy it does nothing: the block is already gone.
func (h *Heap) Deallocate(p unsafe.Pointer, l nalloc.Layout) {
	if h.closed.Load() != heapDestroyed {
		h.m.Deallocate(p, l)
	}
}

// Grow enlarges a block of the heap (mi_heap_realloc, or in place or a
// new block, a copy and a free when the alignment is above what
// mi_heap_realloc keeps). The new block is in the heap.
func (h *Heap) Grow(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	if err := h.open("Grow"); err != nil {
		return nil, err
	}
	return h.m.Grow(p, old, new)
}

// Shrink reduces a block of the heap, as Grow does.
func (h *Heap) Shrink(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	if err := h.open("Shrink"); err != nil {
		return nil, err
	}
	return h.m.Shrink(p, old, new)
}

// UsableSize returns mi_usable_size(p), from any goroutine; 0 after
// Destroy.
func (h *Heap) UsableSize(p unsafe.Pointer) uintptr {
	if h.closed.Load() == heapDestroyed {
		return 0
	}
	return h.m.UsableSize(p)
}

// Purge implements nalloc.Purger: memory the heap no longer uses goes back
// to mimalloc's segments and, from there, to the OS (mi_heap_collect with
// force).
func (h *Heap) Purge() error { return h.guarded("Purge", h.a.heapCollect, 1) }

// Destroy frees every block of the heap at once, and the heap itself
// (mi_heap_destroy), then unlocks the goroutine from its thread. Pointers
// into the heap are invalid afterwards; Deallocate of one does nothing,
// and every other call returns ErrHeapClosed.
func (h *Heap) Destroy() error { return h.close(h.a.heapDestroy, heapDestroyed, "Destroy") }

// Delete releases the heap but not its blocks (mi_heap_delete): they move
// to the thread's default heap, stay valid, and are freed with Deallocate
// (from any goroutine) as before. Then it unlocks the goroutine from its
// thread. Every call but Deallocate and UsableSize returns ErrHeapClosed
// afterwards.
func (h *Heap) Delete() error { return h.close(h.a.heapDelete, heapDeleted, "Delete") }

func (h *Heap) close(fn uintptr, state uint32, op string) error {
	if err := h.guarded(op, fn, 0); err != nil {
		return err
	}
	h.closed.Store(state)
	runtime.UnlockOSThread()
	return nil
}

// guarded runs fn(heap, arg) on the slow path if the heap is open and
// this is its thread.
func (h *Heap) guarded(op string, fn, arg uintptr) error {
	if err := h.open(op); err != nil {
		return err
	}
	if _, ok := native.SlowIf(h.guard, fn, h.heap, arg, 0, 0); !ok {
		return h.refused(op)
	}
	return nil
}
