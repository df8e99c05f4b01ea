// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/nalloc/nalloc/internal/nocopy"
)

// errNoAllocator is what a Vec that NewVec did not make returns when it
// would need memory.
var errNoAllocator = fmt.Errorf("%w: a Vec not made with NewVec", ErrNilAllocator)

// Vec is a growable array of T in allocator memory: Go's []T with append,
// or Rust's Vec<T, A>, for data the garbage collector should not see. A
// Vec of a million records is one block of a's memory, not a million
// objects for the collector to mark, and it does not count towards the Go
// heap that sets the pace of collection.
//
// T must hold no Go pointers (see CheckPointerFree): NewVec refuses other
// types with ErrPointerType.
//
// # Growth
//
// Append and Reserve double the capacity when they must grow (at least to
// the length asked for, and to at least 8 elements of 1 byte, 4 of up to
// 1 KiB, or 1 larger one, as Rust's Vec does), so n Appends cost O(n).
// Growth goes through the allocator's Grow: realloc can extend the block
// in place, and glibc moves blocks above its mmap threshold with mremap
// instead of copying them. NewVec with a capacity, and ShrinkToFit, give
// an exact capacity. Every method that can fail returns an error and leaves
// the Vec exactly as it was: an allocator that refuses (ErrOutOfMemory), or
// a length whose size in bytes would overflow (ErrInvalidLayout), is an
// error, never a panic.
//
// # Memory
//
// The elements live in one block of the allocator's memory, owned by the
// Vec until Free, which gives it back. Slice returns a view of them that
// is valid until the next call that grows or shrinks the block (Append or
// Reserve beyond Cap, ShrinkToFit) or frees it (Free): after that the view
// may point to freed memory. A Vec that is dropped without Free leaks its
// block: the garbage collector does not know about it.
//
// The zero value is not usable: make Vecs with NewVec. A Vec is not safe
// for concurrent use, and must not be copied (the copy would share the
// block, and two Frees would free it twice): pass the *Vec.
type Vec[T any] struct {
	_   nocopy.NoCopy
	a   Allocator
	ptr *T  // the block, nil while cap is 0 (&zeroBase for zero-size T)
	len int // elements in use, 0 <= len <= cap
	cap int // elements the block holds (math.MaxInt for zero-size T)
}

// NewVec returns an empty Vec that allocates from a, with room for capacity
// elements (exactly: NewVec allocates capacity elements, or nothing if
// capacity is 0). It returns an error wrapping ErrPointerType if T holds Go
// pointers, ErrInvalidLayout if capacity is negative or too large, and a's
// error if the allocation fails.
func NewVec[T any](a Allocator, capacity int) (*Vec[T], error) {
	if err := CheckPointerFree[T](); err != nil {
		return nil, err
	}
	if a == nil {
		return nil, fmt.Errorf("%w: NewVec", ErrNilAllocator)
	}
	if capacity < 0 {
		return nil, fmt.Errorf("%w: NewVec with capacity %d", ErrInvalidLayout, capacity)
	}
	v := &Vec[T]{a: a}
	if v.elemSize() == 0 {
		v.resetZeroSize()
		return v, nil
	}
	if capacity != 0 {
		if err := v.setCap(capacity); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (v *Vec[T]) elemSize() uintptr { return unsafe.Sizeof(*v.ptr) }

// resetZeroSize makes the Vec of a zero-size T empty: its elements need no
// memory, so its capacity is unlimited and nothing is ever allocated.
func (v *Vec[T]) resetZeroSize() {
	v.ptr, v.len, v.cap = (*T)(unsafe.Pointer(&zeroBase)), 0, math.MaxInt
}

// Len returns the number of elements in the Vec.
func (v *Vec[T]) Len() int { return v.len }

// Cap returns the number of elements the Vec can hold without growing
// (math.MaxInt for a T of size 0).
func (v *Vec[T]) Cap() int { return v.cap }

// Slice returns the elements as a slice of length and capacity Len(), in
// the Vec's memory: writing to it writes to the Vec. The view is valid
// until the next Append or Reserve that grows the Vec, ShrinkToFit, or
// Free. It is nil when the Vec has no block.
func (v *Vec[T]) Slice() []T {
	if v.ptr == nil {
		return nil
	}
	return unsafe.Slice(v.ptr, v.len)
}

// Append adds xs at the end of the Vec, growing it if needed (see Growth in
// the type's doc). xs may be a view of the Vec itself: v.Append(v.Slice()...)
// doubles its contents. If growing fails, Append returns the error and the
// Vec is exactly as it was, with the block and the view from Slice intact.
func (v *Vec[T]) Append(xs ...T) error {
	if len(xs) <= v.cap-v.len {
		// The common case: the block has room. v.ptr is nil only when
		// v.cap and so len(xs) are 0, and copy then touches nothing.
		copy(unsafe.Slice(v.ptr, v.cap)[v.len:], xs)
		v.len += len(xs)
		return nil
	}
	return v.appendGrow(xs)
}

func (v *Vec[T]) appendGrow(xs []T) error {
	need := v.len + len(xs)
	if need < 0 {
		return v.overflow(len(xs))
	}
	// xs may lie inside the block (a view from Slice), which Grow may move
	// and free: remember where, and find it again in the new block, which
	// keeps the old contents at the same offsets.
	src := uintptr(unsafe.Pointer(unsafe.SliceData(xs)))
	base := uintptr(unsafe.Pointer(v.ptr))
	inside := v.ptr != nil && src >= base && src < base+uintptr(v.cap)*v.elemSize()
	if err := v.reserve(need); err != nil {
		return err
	}
	if inside {
		xs = unsafe.Slice((*T)(unsafe.Add(unsafe.Pointer(v.ptr), src-base)), len(xs))
	}
	copy(unsafe.Slice(v.ptr, v.cap)[v.len:], xs)
	v.len = need
	return nil
}

// Reserve makes room for at least n more elements, so that Appends of up
// to n elements in all will not grow the Vec. It grows as Append does
// (doubling), like slices.Grow; NewVec and ShrinkToFit give exact
// capacities. A negative n gets ErrInvalidLayout. If growing fails, Reserve
// returns the error and the Vec is as it was.
func (v *Vec[T]) Reserve(n int) error {
	if n < 0 {
		return fmt.Errorf("%w: Vec.Reserve(%d): the count is negative", ErrInvalidLayout, n)
	}
	need := v.len + n
	if need < 0 {
		return v.overflow(n)
	}
	if need <= v.cap {
		return nil
	}
	return v.reserve(need)
}

func (v *Vec[T]) overflow(n int) error {
	return fmt.Errorf("%w: Vec of %d elements cannot take %d more: the length overflows int",
		ErrInvalidLayout, v.len, n)
}

// reserve grows the block to hold need > v.cap elements, doubling.
func (v *Vec[T]) reserve(need int) error {
	if v.a == nil {
		return errNoAllocator
	}
	size := v.elemSize()
	minCap := 4
	if size == 1 {
		minCap = 8
	} else if size > 1024 {
		minCap = 1
	}
	newCap := max(need, minCap)
	if v.cap <= math.MaxInt/2 {
		newCap = max(newCap, 2*v.cap)
	}
	// Doubling may pass the largest block a Layout can describe while need
	// does not: then grow to that largest block. If need itself is past
	// it, setCap reports the overflow.
	align := unsafe.Alignof(*v.ptr)
	if limit := int((math.MaxInt - (align - 1)) / size); newCap > limit && need <= limit {
		newCap = limit
	}
	return v.setCap(newCap)
}

// setCap moves the elements to a block of exactly newCap >= v.len elements,
// through Allocate, Grow or Shrink; on failure the Vec is unchanged.
func (v *Vec[T]) setCap(newCap int) error {
	if v.a == nil {
		return errNoAllocator
	}
	l, err := ArrayLayout[T](newCap)
	if err != nil {
		return err
	}
	var p unsafe.Pointer
	switch old := v.layout(); {
	case v.cap == 0:
		p, err = v.a.Allocate(l)
	case newCap > v.cap:
		p, err = v.a.Grow(unsafe.Pointer(v.ptr), old, l)
	default:
		p, err = v.a.Shrink(unsafe.Pointer(v.ptr), old, l)
	}
	if err != nil {
		return err
	}
	// p holds newCap elements' worth of bytes, aligned for T, with the
	// first min(old, new) bytes kept: the elements so far.
	v.ptr, v.cap = (*T)(p), newCap
	return nil
}

// layout is the Layout of the current block (valid: it was allocated).
func (v *Vec[T]) layout() Layout {
	return Layout{Size: uintptr(v.cap) * v.elemSize(), Align: unsafe.Alignof(*v.ptr)}
}

// Clear removes every element and keeps the capacity, for reuse without
// allocating. Views from Slice stay valid (they still hold the old values).
func (v *Vec[T]) Clear() { v.len = 0 }

// Truncate keeps the first n elements and drops the rest, keeping the
// capacity. If n >= Len() it does nothing. A negative n gets
// ErrInvalidLayout and changes nothing.
func (v *Vec[T]) Truncate(n int) error {
	if n < 0 {
		return fmt.Errorf("%w: Vec.Truncate(%d): the length is negative", ErrInvalidLayout, n)
	}
	v.len = min(v.len, n)
	return nil
}

// ShrinkToFit reduces the capacity to the length, through the allocator's
// Shrink, and frees the block if the Vec is empty. It invalidates views
// from Slice. If the allocator cannot shrink the block (a Shrink that has
// to move it may fail to allocate), ShrinkToFit returns the error and the
// Vec is as it was.
func (v *Vec[T]) ShrinkToFit() error {
	if v.cap == v.len || v.elemSize() == 0 {
		return nil
	}
	if v.len == 0 {
		v.Free()
		return nil
	}
	return v.setCap(v.len)
}

// Free gives the Vec's block back to its allocator and empties the Vec.
// Views from Slice are invalid from then on. The Vec may be used again: it
// allocates a new block when it next grows. Free of an empty Vec does
// nothing.
func (v *Vec[T]) Free() {
	if v.elemSize() == 0 {
		v.resetZeroSize()
		return
	}
	if v.cap > 0 {
		v.a.Deallocate(unsafe.Pointer(v.ptr), v.layout())
	}
	v.ptr, v.len, v.cap = nil, 0, 0
}
