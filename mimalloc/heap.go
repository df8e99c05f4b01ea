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
	// Only the goroutine that runs WithHeap's function may use its Heap,
	// but Deallocate and UsableSize work from any goroutine.
	ErrWrongThread = errors.New("mimalloc: heap used off its owner thread")
	// ErrHeapClosed: the Heap was destroyed or retired.
	ErrHeapClosed = errors.New("mimalloc: heap closed")
)

// Heap is a mimalloc heap (mi_heap_t) behind the nalloc.Allocator
// interface: a group of blocks that Destroy frees all at once, and whose
// memory Stats attributes to it. Allocator.WithHeap makes one and hands
// it to a function; the zero value is not usable, and a Heap must not be
// copied.
//
// # One thread
//
// mimalloc lets only the thread that created a heap allocate from it,
// resize its blocks, collect or destroy it; any thread may free its blocks
// (mi_free). Go moves goroutines between threads at will, so WithHeap
// locks the calling goroutine to its OS thread (runtime.LockOSThread) for
// as long as the heap lives: the Heap belongs to that goroutine, like a
// held lock. Allocate, AllocateZeroed, Grow, Shrink, Purge, Stats, Destroy
// and Retire check on each call that they run on the owner thread and
// return an error wrapping ErrWrongThread otherwise, having done nothing:
// misuse is an error, never a corrupted heap. Deallocate and UsableSize
// work from any goroutine.
//
// The check is a thread token that no other thread ever has, compared in
// the same C call as the mimalloc function it guards, so the goroutine
// cannot change threads in between (internal/native's Guard). It costs
// one more C call, pthread_getspecific, inside the same switch to the
// system stack (docs/backends.md, "mimalloc", has the figure).
//
// # Why a function and not a constructor
//
// A heap lives exactly as long as the function WithHeap runs, so it is
// destroyed on its own thread however the function ends: by returning,
// by a panic, or by runtime.Goexit. A heap that outlived its goroutine
// could never be destroyed: Go ends the thread of a goroutine that ends
// locked, mimalloc then deletes the thread's heaps, and their blocks are
// left to be freed one by one.
//
// Not safe for concurrent use, except Deallocate and UsableSize; every
// other goroutine must be done with the Heap's blocks before Destroy.
type Heap struct {
	a      *Allocator
	m      native.Malloc // the heap's calls, guarded
	guard  *native.Guard
	heap   uintptr // mi_heap_t*; dangling once closed, never passed to C then
	closed atomic.Uint32
	owned  bool // made by NewHeap: Destroy and Retire unlock the thread
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
	heapRetired
	heapDestroyed
)

// WithHeap creates a heap (mi_heap_new), calls fn with it on the calling
// goroutine, locked to its OS thread, and destroys the heap when fn ends
// (Destroy: every block still in it is freed), whether fn returns, panics
// or calls runtime.Goexit; fn may end the heap sooner with Destroy or
// Retire. It returns fn's error, or why the heap could not be made or
// destroyed. fn must leave the goroutine's thread lock as it found it (as
// many runtime.UnlockOSThread calls as LockOSThread).
//
// The heap belongs to this goroutine (see Heap): other goroutines may
// free its blocks, and nothing else. After WithHeap returns, every call of
// the Heap but Deallocate returns ErrHeapClosed.
func (a *Allocator) WithHeap(fn func(h *Heap) error) (err error) {
	h, err := a.newHeap()
	if err != nil {
		return err
	}
	defer func() {
		if derr := h.end(); err == nil {
			err = derr
		}
	}()
	return fn(h)
}

// NewHeap creates a heap (mi_heap_new) owned by the calling goroutine,
// which it locks to its OS thread until Destroy or Retire, called by the
// same goroutine, ends the heap and unlocks the thread. Prefer WithHeap,
// which cannot get this wrong: a NewHeap heap must be ended before its
// goroutine ends. If the goroutine ends first, Go ends its locked thread,
// mimalloc deletes the heap with the thread (its blocks move to the
// process's heap, still allocated), and Destroy and Retire from any other
// goroutine return ErrWrongThread: its blocks can then only be given back
// one by one, with the Allocator's or the Heap's Deallocate.
func (a *Allocator) NewHeap() (*Heap, error) {
	h, err := a.newHeap()
	if err != nil {
		return nil, err
	}
	h.owned = true
	return h, nil
}

// end destroys the heap if it is still open and unlocks the goroutine
// from its thread, undoing newHeap.
func (h *Heap) end() error {
	defer runtime.UnlockOSThread()
	if h.closed.Load() == heapOpen {
		return h.Destroy()
	}
	return nil
}

// newHeap creates a heap owned by the calling goroutine, which it locks
// to its OS thread; the caller destroys or retires the heap and then
// unlocks the thread.
func (a *Allocator) newHeap() (*Heap, error) {
	h := &Heap{a: a}
	guard, err := native.LockThread(h.refused)
	if err != nil {
		return nil, fmt.Errorf("mimalloc: heaps: %w", err)
	}
	h.guard = guard
	if h.heap = native.Slow1(a.heapNew, 0); h.heap == 0 {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("mimalloc: mi_heap_new: %w", nalloc.ErrOutOfMemory)
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
	case heapRetired:
		return fmt.Errorf("%w: %s after Retire", ErrHeapClosed, op)
	}
	return fmt.Errorf("%w: %s", ErrWrongThread, op)
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

// AllocateZeroed is Allocate with the block zero-filled (mi_heap_calloc,
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
// (mi_heap_destroy), before WithHeap would (or, for a NewHeap heap, when
// its goroutine is done with it). Pointers into the heap are
// invalid afterwards; Deallocate of one does nothing, and every other
// call returns ErrHeapClosed.
func (h *Heap) Destroy() error { return h.close(h.a.heapDestroy, heapDestroyed, "Destroy") }

// Retire ends the heap but not its blocks (mi_heap_delete): they move to
// the thread's default heap, stay valid, and are freed one by one with
// Deallocate (from any goroutine) as before; WithHeap then has nothing
// to destroy. It is for blocks that turn out to outlive the group they
// were allocated with. (mimalloc calls it deleting a heap; nalloc's
// Delete frees one value.) Every call but Deallocate and UsableSize
// returns ErrHeapClosed afterwards.
func (h *Heap) Retire() error { return h.close(h.a.heapDelete, heapRetired, "Retire") }

func (h *Heap) close(fn uintptr, state uint32, op string) error {
	if err := h.guarded(op, fn, 0); err != nil {
		return err
	}
	h.closed.Store(state)
	if h.owned {
		runtime.UnlockOSThread() // guarded ran on the owner's thread, so this is the owner
	}
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
