// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package mimalloc

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/ffi"
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
// memory Stats attributes to it. Get one from NewHeap; the zero value is
// not usable, and a Heap must not be copied.
//
// # One thread
//
// mimalloc lets only the thread that created a heap allocate from it,
// resize its blocks, collect or destroy it; any thread may free its blocks
// (mi_free). Go moves goroutines between threads at will, so NewHeap locks
// the calling goroutine to its OS thread (runtime.LockOSThread) and Destroy
// or Delete unlock it again: between the two, the Heap belongs to that
// goroutine, like a held lock. Allocate, AllocateZeroed, Grow, Shrink,
// Collect, Stats, Destroy and Delete check on each call that they run on
// the owner thread and return an error wrapping ErrWrongThread otherwise,
// having done nothing: misuse is an error, never a corrupted heap.
// Deallocate and UsableSize work from any goroutine.
//
// The check is a thread-local token: NewHeap stores a number that is never
// reused in a pthread key of its thread, and each call compares that key's
// value (pthread_getspecific, a few instructions) with the Heap's token, in
// the same assembly call as the mimalloc function it guards (ffi.FastIf),
// so the goroutine cannot change threads between the check and the call. A
// token, rather than the thread's pthread_t, because a thread that exits
// (a goroutine that ends while still locked) takes its heaps with it
// (mimalloc deletes them) and a new thread may get the same pthread_t,
// never the same token. With the nalloc_purego tag (or where nalloc has
// no assembly) the check and the call are two calls, and the thread lock
// that NewHeap takes is what keeps them on one thread.
// BenchmarkAllocFree64 (impl=mimalloc-heap) measures the check's cost
// against the same calls unchecked.
//
// A goroutine that ends without Destroy or Delete ends its thread (Go's
// rule for locked goroutines); mimalloc then deletes the heap, keeping its
// blocks alive, and the Heap refuses every call but Deallocate.
//
// Not safe for concurrent use, except Deallocate and UsableSize; every
// other goroutine must be done with the Heap's blocks before Destroy.
type Heap struct {
	a      *Allocator
	heap   uintptr // mi_heap_t*; dangling once closed, never passed to C then
	token  uintptr // the owner thread's value of owner.key
	closed atomic.Uint32
}

// Values of Heap.closed.
const (
	heapOpen = iota
	heapDeleted
	heapDestroyed
)

// owner holds the pthread key whose value identifies a heap's thread.
var owner struct {
	once                     sync.Once
	err                      error
	key                      uintptr
	getspecific, setspecific uintptr
	last                     atomic.Uintptr // the last token handed out
}

func ownerKey() error {
	owner.once.Do(func() {
		lib, err := ffi.Load("libc.so.6", "libpthread.so.0")
		if err != nil {
			owner.err = fmt.Errorf("mimalloc: heaps need pthread keys from the C library: %w", err)
			return
		}
		var create uintptr
		if err := lib.Symbols(
			ffi.Sym{Name: "pthread_key_create", Addr: &create},
			ffi.Sym{Name: "pthread_getspecific", Addr: &owner.getspecific},
			ffi.Sym{Name: "pthread_setspecific", Addr: &owner.setspecific},
		); err != nil {
			owner.err = fmt.Errorf("mimalloc: heaps need pthread keys: %w", err)
			return
		}
		var key uint32 // pthread_key_t; Block2 keeps it on the heap for C
		if rc := int32(ffi.Block2(create, uintptr(unsafe.Pointer(&key)), 0)); rc != 0 {
			owner.err = fmt.Errorf("mimalloc: pthread_key_create failed (error %d)", rc)
			return
		}
		owner.key = uintptr(key)
	})
	return owner.err
}

// NewHeap creates a heap (mi_heap_new) owned by the calling goroutine,
// which it locks to its OS thread until Destroy or Delete. See Heap for
// the rules. The heap must be closed with Destroy (frees every block in
// it) or Delete (keeps them) on the same goroutine.
func (a *Allocator) NewHeap() (*Heap, error) {
	if err := ownerKey(); err != nil {
		return nil, err
	}
	runtime.LockOSThread()
	token := ffi.Block1(owner.getspecific, owner.key)
	if token == 0 {
		token = owner.last.Add(1)
		if rc := int32(ffi.Block2(owner.setspecific, owner.key, token)); rc != 0 {
			runtime.UnlockOSThread()
			return nil, fmt.Errorf("mimalloc: pthread_setspecific failed (error %d)", rc)
		}
	}
	// The first mimalloc call of a thread sets up its thread data: on the
	// system stack, like every rare call.
	heap := ffi.Block1(a.heapNew, 0)
	if heap == 0 {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("%w: mimalloc: mi_heap_new failed", nalloc.ErrOutOfMemory)
	}
	return &Heap{a: a, heap: heap, token: token}, nil
}

// NewHeap is Open followed by Allocator.NewHeap.
func NewHeap() (*Heap, error) {
	a, err := Open()
	if err != nil {
		return nil, err
	}
	return a.NewHeap()
}

// call runs fn(a0, a1, a2, a3) if this is the owner thread, on the path a
// block of size bytes calls for. fn may take fewer arguments: the rest are
// passed as 0 in registers, which the C ABI lets a function ignore.
func (h *Heap) call(size, fn, a0, a1, a2, a3 uintptr) (uintptr, bool) {
	if size >= native.BlockingThreshold {
		return ffi.BlockIf(owner.getspecific, owner.key, h.token, fn, a0, a1, a2, a3)
	}
	return ffi.FastIf(owner.getspecific, owner.key, h.token, fn, a0, a1, a2, a3)
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

// Allocate returns a block from the heap (mi_heap_malloc, or
// mi_heap_malloc_aligned for alignments above 8). It is freed by
// Deallocate, or with every other block by Destroy.
func (h *Heap) Allocate(l nalloc.Layout) (unsafe.Pointer, error) {
	return h.allocate(l, h.a.heapMalloc, h.a.heapMallocAligned)
}

// AllocateZeroed is Allocate with the block zero-filled (mi_heap_zalloc,
// mi_heap_zalloc_aligned).
func (h *Heap) AllocateZeroed(l nalloc.Layout) (unsafe.Pointer, error) {
	return h.allocate(l, h.a.heapZalloc, h.a.heapZallocAligned)
}

func (h *Heap) allocate(l nalloc.Layout, small, aligned uintptr) (unsafe.Pointer, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	if h.closed.Load() != heapOpen {
		return nil, h.refused("Allocate")
	}
	size := max(l.Size, 1)
	var p uintptr
	var ok bool
	if l.Align <= minAlign || (l.Align <= naturalAlign && size >= l.Align) {
		p, ok = h.call(size, small, h.heap, size, 0, 0)
	} else {
		// mi_heap_malloc_aligned(heap, size, align), or below 2.1.0
		// mi_heap_malloc_aligned_at(heap, size, align, 0): see the
		// package doc.
		p, ok = h.call(size, aligned, h.heap, size, l.Align, 0)
	}
	if !ok {
		return nil, h.refused("Allocate")
	}
	if p == 0 {
		return nil, nalloc.OutOfMemory("mimalloc heap", l)
	}
	return ffi.Ptr(p), nil
}

// Deallocate frees a block of the heap with mi_free, from any goroutine.
// After Destroy it does nothing: the block is already gone.
func (h *Heap) Deallocate(p unsafe.Pointer, l nalloc.Layout) {
	if p == nil || h.closed.Load() == heapDestroyed {
		return
	}
	native.Call1(l.Size, h.a.f.Free, uintptr(p))
}

// Grow enlarges a block of the heap (mi_heap_realloc, or
// mi_heap_realloc_aligned when the block is already aligned to the new
// alignment, or a new block, a copy and a free otherwise; see the package
// doc). The new block is in the heap.
func (h *Heap) Grow(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	if err := nalloc.ValidateGrow(old, new); err != nil {
		return nil, err
	}
	return h.resize(p, old, new)
}

// Shrink reduces a block of the heap, as Grow does.
func (h *Heap) Shrink(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	if err := nalloc.ValidateShrink(old, new); err != nil {
		return nil, err
	}
	return h.resize(p, old, new)
}

func (h *Heap) resize(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	if h.closed.Load() != heapOpen {
		return nil, h.refused("resize")
	}
	size := max(new.Size, 1)
	var q uintptr
	var ok bool
	switch {
	case new.Align <= minAlign || (new.Align <= naturalAlign && size >= new.Align):
		q, ok = h.call(max(old.Size, size), h.a.heapRealloc, h.heap, uintptr(p), size, 0)
	case uintptr(p)%new.Align == 0:
		// mi_heap_realloc_aligned aligns the new block at the old
		// block's offset from new.Align (#603): 0 here, so it is right.
		q, ok = h.call(max(old.Size, size), h.a.heapReallocAligned, h.heap, uintptr(p), size, new.Align)
	default:
		return nalloc.Reallocate(h, p, old, new)
	}
	if !ok {
		return nil, h.refused("resize")
	}
	if q == 0 {
		return nil, nalloc.OutOfMemory("mimalloc heap", new)
	}
	return ffi.Ptr(q), nil
}

// UsableSize returns mi_usable_size(p), from any goroutine; 0 after
// Destroy.
func (h *Heap) UsableSize(p unsafe.Pointer) uintptr {
	if p == nil || h.closed.Load() == heapDestroyed {
		return 0
	}
	return ffi.Fast1(h.a.f.MallocUsableSize, uintptr(p))
}

// Collect gives memory the heap no longer uses back to mimalloc's segments
// and, from there, to the OS (mi_heap_collect); force also collects what
// mimalloc would otherwise keep for reuse for a while.
func (h *Heap) Collect(force bool) error {
	if h.closed.Load() != heapOpen {
		return h.refused("Collect")
	}
	var f uintptr
	if force {
		f = 1
	}
	if _, ok := ffi.BlockIf(owner.getspecific, owner.key, h.token, h.a.heapCollect, h.heap, f, 0, 0); !ok {
		return h.refused("Collect")
	}
	return nil
}

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
	if h.closed.Load() != heapOpen {
		return h.refused(op)
	}
	if _, ok := ffi.BlockIf(owner.getspecific, owner.key, h.token, fn, h.heap, 0, 0, 0); !ok {
		return h.refused(op)
	}
	h.closed.Store(state)
	runtime.UnlockOSThread()
	return nil
}
