// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package arrowalloc runs Apache Arrow's Go library (arrow-go v18) on any
// nalloc allocator: jemalloc, mimalloc or glibc malloc loaded at run time,
// without cgo, or the bump arena or the Go heap.
//
//	mem := arrowalloc.New(a) // a from nalloc.Open("jemalloc"), say
//	b := array.NewInt64Builder(mem)
//	defer b.Release()
//
// Arrow's own off-heap allocators need cgo and a build tag (the
// mallocator tag for C's malloc, ccalloc for Arrow C++'s jemalloc pool);
// this one needs neither.
//
// # What Arrow expects, and what this package does
//
// arrow-go's memory.Allocator has three methods and no error results; its
// implementations (GoAllocator, mallocator.Mallocator) and its tests set
// the rules this package follows:
//
//   - Every buffer is aligned to 64 bytes, the alignment Arrow's format
//     recommends and its SIMD kernels assume. Blocks are allocated with
//     nalloc.Layout{Size: size, Align: 64}.
//   - Allocate returns zeroed memory, as GoAllocator (make) and Mallocator
//     (calloc) do; nalloc.AllocateZeroed takes the allocator's own zeroing
//     path where it has one (calloc, MALLOCX_ZERO, mi_zalloc_aligned).
//     Reallocate zeroes the bytes it adds past the old block, as
//     GoAllocator's and Mallocator's allocate-copy do, through
//     nalloc.GrowZeroed. Arrow's builders do not clear what they append
//     into, so without this a builder's padding and unset validity bits
//     would hold stale bytes.
//   - Reallocate resizes through the allocator's Grow and Shrink, in place
//     where the allocator can (jemalloc's rallocx, mimalloc's
//     mi_realloc_aligned, the arena's last block, a block with room in its
//     size class), where Arrow's allocators always allocate, copy and free
//     when a buffer grows. A shrink is passed on, so that the allocator can
//     take back the tail: memory.Buffer shrinks to give memory back.
//   - Size 0 is valid: Allocate(0) returns an empty, non-nil slice that
//     takes no memory and that Free accepts. Reallocate(0, b) frees b.
//   - Failure panics, as Arrow's allocators do (Mallocator panics with
//     "mallocator: out of memory"; GoAllocator's make ends the process):
//     the interface has no other way to say it. The panic value is an
//     error wrapping nalloc.ErrOutOfMemory, or nalloc.ErrInvalidLayout for
//     a negative size, so a recover can tell why with errors.Is. A
//     Reallocate that panics leaves b as it was, still the caller's.
//
// # Memory
//
// A slice from Allocate or Reallocate is a view of a block of the nalloc
// allocator; its capacity is the block's size. It belongs to the caller
// until Free, or until Reallocate returns its successor, after which it
// must not be used. Free and Reallocate find the block from the slice's
// data pointer and capacity, so they must be given the slice as returned
// (len may have been cut, the start and capacity not). The garbage
// collector does not scan the blocks: they hold only bytes, as Arrow's
// buffers do.
//
// Free of a slice that did not come from this Allocator, or of one freed
// already, is undefined behaviour with a native allocator, as free is in C
// (Mallocator ignores it). To catch such bugs wrap the allocator in
// nalloc.NewChecked: arrowalloc.New(nalloc.NewChecked(a)) reports them
// through its Err instead of passing them on. To count what Arrow
// allocates, wrap it in nalloc.NewCounting.
package arrowalloc

import (
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/nalloc/nalloc"
)

// Alignment is the alignment of every buffer this package hands out: 64
// bytes, as Arrow's own allocators give.
const Alignment = 64

// Allocator is an Arrow memory.Allocator over a nalloc.Allocator.
//
// It is safe for concurrent use if its nalloc allocator is (the native
// backends and "go" are; a bump arena is not, so one Allocator over an
// arena serves one goroutine). It holds no state of its own: any number of
// Allocators may share one nalloc allocator. Use New; the zero value is
// not usable.
type Allocator struct {
	a nalloc.Allocator
}

var _ memory.Allocator = (*Allocator)(nil)

// New returns an Allocator that takes its memory from a. It panics if a is
// nil.
func New(a nalloc.Allocator) *Allocator {
	if a == nil {
		panic("arrowalloc: New(nil)")
	}
	return &Allocator{a: a}
}

// Unwrap returns the nalloc allocator that a takes its memory from.
func (a *Allocator) Unwrap() nalloc.Allocator { return a.a }

// empty is the slice that every request for 0 bytes gets: non-nil, aligned
// to Alignment like every other buffer, and of capacity 0, so that Free
// and Reallocate know it holds no block. Its bytes are never read or
// written (nothing can be, through a slice of capacity 0).
var empty = func() []byte {
	off := (Alignment - uintptr(unsafe.Pointer(&emptyBacking))%Alignment) % Alignment
	// unsafe.Slice, not emptyBacking[off:off:off]: slicing to capacity 0
	// leaves the data pointer at the array's start (Go never advances it
	// past the end of what it points into).
	return unsafe.Slice(&emptyBacking[off], 0)
}()

var emptyBacking [2*Alignment - 1]byte

// layout is the Layout of a block of n bytes, n >= 0.
func layout(n int) nalloc.Layout { return nalloc.Layout{Size: uintptr(n), Align: Alignment} }

// Allocate returns a zeroed buffer of size bytes, aligned to Alignment,
// with a capacity of exactly size. Give it back with Free, or resize it
// with Reallocate. It panics if size is negative or the allocator cannot
// supply the block (see the package doc, "What Arrow expects").
func (a *Allocator) Allocate(size int) []byte {
	if size <= 0 {
		if size < 0 {
			panic(negativeSize("Allocate", size))
		}
		return empty
	}
	p, err := nalloc.AllocateZeroed(a.a, layout(size))
	if err != nil {
		panic(fmt.Errorf("arrowalloc: Allocate(%d): %w", size, err))
	}
	return unsafe.Slice((*byte)(p), size)
}

// Reallocate resizes the buffer b to size bytes and returns the buffer to
// use from then on, which may share b's memory; b itself must not be used
// again. The first min(cap(b), size) bytes are kept and the rest are zero.
// An empty b (nil, or capacity 0) is allocated afresh; size 0 frees b. It
// panics if size is negative or the allocator cannot supply the block;
// then b is untouched and still the caller's.
func (a *Allocator) Reallocate(size int, b []byte) []byte {
	old := cap(b)
	switch {
	case size < 0:
		panic(negativeSize("Reallocate", size))
	case old == 0:
		return a.Allocate(size)
	case size == 0:
		a.Free(b)
		return empty
	case size == old:
		return b[:size]
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	var q unsafe.Pointer
	var err error
	if size > old {
		q, err = nalloc.GrowZeroed(a.a, p, layout(old), layout(size))
	} else {
		q, err = a.a.Shrink(p, layout(old), layout(size))
	}
	if err != nil {
		panic(fmt.Errorf("arrowalloc: Reallocate(%d) of a %d-byte buffer: %w", size, old, err))
	}
	return unsafe.Slice((*byte)(q), size)
}

// Free gives back a buffer that Allocate or Reallocate returned. An empty
// buffer (nil, or capacity 0) is ignored.
func (a *Allocator) Free(b []byte) {
	if n := cap(b); n > 0 {
		a.a.Deallocate(unsafe.Pointer(unsafe.SliceData(b)), layout(n))
	}
}

// negativeSize is the panic value for a negative size: a bug in the caller,
// which the interface gives no other way to report.
func negativeSize(method string, size int) error {
	return fmt.Errorf("arrowalloc: %s(%d): %w: the size is negative", method, size, nalloc.ErrInvalidLayout)
}
