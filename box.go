// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import "unsafe"

// New allocates a zeroed T from a and returns a pointer to it, in the
// manner of Rust's Box::new_in. T must hold no Go pointers (see
// CheckPointerFree); otherwise New returns an error wrapping
// ErrPointerType. An allocation failure returns a's error, which wraps
// ErrOutOfMemory.
//
// # Memory
//
// The value lives in a's memory, not on the Go heap: the garbage collector
// neither scans it nor frees it. It belongs to the caller until Delete(a, p),
// which must be given the same allocator; using *p after that is a
// use-after-free. Copying *p into Go memory is fine; keeping p itself in Go
// memory is fine too (the garbage collector ignores pointers outside its
// heap).
func New[T any](a Allocator) (*T, error) {
	if err := CheckPointerFree[T](); err != nil {
		return nil, err
	}
	p, err := AllocateZeroed(a, LayoutOf[T]())
	if err != nil {
		return nil, err
	}
	// p is a block of at least Sizeof(T) bytes aligned to Alignof(T), all
	// zero: a valid T. T holds no pointers, so checkptr has nothing to
	// check and the garbage collector nothing to scan.
	return (*T)(p), nil
}

// Delete gives back the value that New(a) returned. Delete(a, nil) does
// nothing. Deleting twice, or with another allocator, is undefined
// behaviour, as free is in C (NewChecked catches it).
func Delete[T any](a Allocator, p *T) {
	if p == nil {
		return
	}
	a.Deallocate(unsafe.Pointer(p), LayoutOf[T]())
}

// MakeSlice allocates a zeroed slice of n values of type T from a, with
// length and capacity n: make([]T, n) in a's memory. T must hold no Go
// pointers (ErrPointerType otherwise); a negative n, or one whose size
// overflows, gets ErrInvalidLayout.
//
// An empty slice (n == 0, or a T of size 0) needs no memory: it is not
// allocated, and FreeSlice of it does nothing.
//
// # Memory
//
// The slice's elements live in a's memory until FreeSlice(a, s); after
// that, s and every slice taken from it refer to freed memory. Appending
// to s with Go's append beyond its capacity copies it to the Go heap (the
// copy is an ordinary Go slice; the original must still be freed).
func MakeSlice[T any](a Allocator, n int) ([]T, error) {
	return makeSlice[T](a, n, true)
}

// CopySlice copies src into a new slice allocated from a, of length and
// capacity len(src), and returns it: bumpalo's alloc_slice_copy. It is
// MakeSlice without the zeroing, followed by copy. T must hold no Go
// pointers (ErrPointerType otherwise). Free the result with FreeSlice.
func CopySlice[T any](a Allocator, src []T) ([]T, error) {
	s, err := makeSlice[T](a, len(src), false)
	if err != nil {
		return nil, err
	}
	copy(s, src)
	return s, nil
}

func makeSlice[T any](a Allocator, n int, zero bool) ([]T, error) {
	if err := CheckPointerFree[T](); err != nil {
		return nil, err
	}
	l, err := ArrayLayout[T](n)
	if err != nil {
		return nil, err
	}
	if l.Size == 0 {
		return emptySlice[T](n), nil
	}
	var p unsafe.Pointer
	if zero {
		p, err = AllocateZeroed(a, l)
	} else {
		p, err = a.Allocate(l)
	}
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*T)(p), n), nil
}

// FreeSlice gives back a slice that MakeSlice or CopySlice returned. s must
// start where the returned slice started and keep its capacity: the slice
// itself, or a reslice s[:k]; the layout to free is computed from cap(s).
// FreeSlice of an empty slice does nothing.
func FreeSlice[T any](a Allocator, s []T) {
	l, err := ArrayLayout[T](cap(s))
	if err != nil || l.Size == 0 {
		return // cap(s) came from a valid layout, so err is nil here
	}
	a.Deallocate(unsafe.Pointer(unsafe.SliceData(s)), l)
}

// CopyString copies s into memory allocated from a and returns a string
// that points there: bumpalo's alloc_str. The empty string needs no
// memory: CopyString returns "" without allocating.
//
// # Memory
//
// The result is valid until FreeString(a, result), or, for an arena,
// until the arena is reset or released. Go assumes a string's bytes live
// as long as the string does, so the string, and every substring of it,
// must not be used after that: do not let it reach a map key, a cache, a
// struct or a goroutine that could outlive the memory. strings.Clone
// copies it back to the Go heap when it must outlive it.
func CopyString(a Allocator, s string) (string, error) {
	if len(s) == 0 {
		return "", nil
	}
	p, err := a.Allocate(Layout{Size: uintptr(len(s)), Align: 1})
	if err != nil {
		return "", err
	}
	copy(unsafe.Slice((*byte)(p), len(s)), s)
	return unsafe.String((*byte)(p), len(s)), nil
}

// FreeString gives back a string that CopyString returned (the whole
// string, not a substring). FreeString of "" does nothing.
func FreeString(a Allocator, s string) {
	if len(s) == 0 {
		return
	}
	a.Deallocate(unsafe.Pointer(unsafe.StringData(s)), Layout{Size: uintptr(len(s)), Align: 1})
}
