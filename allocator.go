// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"unsafe"
)

// Errors. Every error an allocator in this module returns wraps one of
// these, with the details (the Layout, the allocator, the fix) in its text;
// test for them with errors.Is.
var (
	// ErrInvalidLayout: an alignment that is not a power of two, a size
	// that overflows once rounded up to its alignment, or a Grow or Shrink
	// in the wrong direction (Grow to a smaller size is a Shrink, and the
	// other way round).
	ErrInvalidLayout = errors.New("nalloc: invalid layout")
	// ErrOutOfMemory: the allocator could not supply the block.
	ErrOutOfMemory = errors.New("nalloc: out of memory")
	// ErrUnknownAllocator: Open was given a name that no imported package
	// registered. Each backend registers its name when its package is
	// linked in: import _ "github.com/nalloc/nalloc/NAME" for one, or
	// _ "github.com/nalloc/nalloc/all" for every backend.
	ErrUnknownAllocator = errors.New("nalloc: unknown allocator")
	// ErrLibraryNotFound: a native backend could not load its shared
	// library; the error names the Debian package to install.
	ErrLibraryNotFound = errors.New("nalloc: library not found")
	// ErrPointerType: a type that holds Go pointers was asked to live in
	// memory the garbage collector does not scan.
	ErrPointerType = errors.New("nalloc: type holds Go pointers")
	// ErrNilAllocator: a container was given a nil Allocator, or used
	// without its constructor (a zero Vec): make it with NewVec, NewMap
	// and so on, from an allocator that Open or a backend returned.
	ErrNilAllocator = errors.New("nalloc: nil allocator")
	// ErrUnsupported: the allocator (with every allocator it wraps) lacks
	// the capability asked for, or cannot run on this platform.
	// errors.Is(err, errors.ErrUnsupported) holds for it too.
	ErrUnsupported = fmt.Errorf("nalloc: %w", errors.ErrUnsupported)
)

// Layout is the size and alignment of a block of memory, in bytes. A
// valid Layout has an Align that is a power of two and a Size that, rounded
// up to a multiple of Align, does not exceed math.MaxInt (Rust's rule for
// std::alloc::Layout). Size 0 is valid.
type Layout struct {
	Size  uintptr
	Align uintptr
}

// NewLayout returns Layout{size, align}, or an error wrapping
// ErrInvalidLayout if that layout is not valid.
func NewLayout(size, align uintptr) (Layout, error) {
	l := Layout{Size: size, Align: align}
	return l, l.Validate()
}

// LayoutOf returns the layout of a value of type T.
func LayoutOf[T any]() Layout {
	// Through a nil pointer, not a zero value: unsafe.Sizeof does not
	// evaluate its operand, while a T variable over 128 KiB would be put on
	// the Go heap, a garbage allocation on every call for exactly the large
	// types that belong off the heap.
	var p *T
	return Layout{Size: unsafe.Sizeof(*p), Align: unsafe.Alignof(*p)}
}

// ArrayLayout returns the layout of n consecutive values of type T, or an
// error wrapping ErrInvalidLayout if n is negative or the size overflows.
func ArrayLayout[T any](n int) (Layout, error) {
	elem := LayoutOf[T]()
	if n < 0 {
		return Layout{}, fmt.Errorf("%w: array of %d elements: the length is negative", ErrInvalidLayout, n)
	}
	hi, size := bits.Mul64(uint64(elem.Size), uint64(n))
	if hi != 0 || size > math.MaxInt {
		return Layout{}, fmt.Errorf("%w: array of %d elements of %d bytes: the size overflows",
			ErrInvalidLayout, n, elem.Size)
	}
	return NewLayout(uintptr(size), elem.Align)
}

// Validate returns nil if l is valid, or an error wrapping
// ErrInvalidLayout that says what is wrong with it.
func (l Layout) Validate() error {
	// For a power of two, Align-1 is the most that rounding up can add,
	// so the size rule reads Size <= MaxInt-(Align-1).
	if l.Align == 0 || l.Align&(l.Align-1) != 0 || l.Size > math.MaxInt-(l.Align-1) {
		return layoutError(l) // formats only when printed, so Validate inlines
	}
	return nil
}

// layoutError is Validate's error.
type layoutError Layout

func (e layoutError) Error() string {
	l := Layout(e)
	var why string
	switch {
	case l.Align == 0:
		why = "Align is 0; it must be a power of two (1, 2, 4, 8, ...)"
	case l.Align&(l.Align-1) != 0:
		why = fmt.Sprintf("Align %d is not a power of two", l.Align)
	default:
		why = fmt.Sprintf("Size %d rounded up to Align %d exceeds math.MaxInt", l.Size, l.Align)
	}
	return fmt.Sprintf("%v: %v: %s", ErrInvalidLayout, l, why)
}

func (e layoutError) Unwrap() error { return ErrInvalidLayout }

// String formats l as Layout{Size: 64, Align: 8}.
func (l Layout) String() string {
	return fmt.Sprintf("Layout{Size: %d, Align: %d}", l.Size, l.Align)
}

// ValidateGrow checks the layouts passed to Grow: both valid, and new.Size
// not smaller than old.Size. It is for implementations of Allocator.
func ValidateGrow(old, new Layout) error {
	if err := validatePair(old, new); err != nil {
		return err
	}
	if new.Size < old.Size {
		return fmt.Errorf("%w: Grow from %v to the smaller %v", ErrInvalidLayout, old, new)
	}
	return nil
}

// ValidateShrink checks the layouts passed to Shrink: both valid, and
// new.Size not larger than old.Size. It is for implementations of
// Allocator.
func ValidateShrink(old, new Layout) error {
	if err := validatePair(old, new); err != nil {
		return err
	}
	if new.Size > old.Size {
		return fmt.Errorf("%w: Shrink from %v to the larger %v", ErrInvalidLayout, old, new)
	}
	return nil
}

func validatePair(old, new Layout) error {
	if err := old.Validate(); err != nil {
		return err
	}
	return new.Validate()
}

// OutOfMemory returns the error an allocator gives when it cannot supply
// a block of layout l: it wraps ErrOutOfMemory and names the allocator and
// the layout. It is for implementations of Allocator.
func OutOfMemory(allocator string, l Layout) error {
	return fmt.Errorf("%w: %s cannot allocate %v", ErrOutOfMemory, allocator, l)
}

// Allocator hands out blocks of memory described by a Layout, in the
// manner of Rust's std::alloc::Allocator.
//
// # Contract
//
// Every allocator in this module honours these rules; package nalloctest
// checks them, and implementations outside the module can run it too.
//
//   - Allocate returns a block of at least l.Size bytes aligned to
//     l.Align, for any power-of-two alignment (1 to at least 64 KiB). Its
//     contents are undefined; see AllocateZeroed.
//   - l.Size == 0 is valid: the result is non-nil and aligned, must not be
//     read or written, and must be given back to Deallocate.
//   - An invalid layout gets an error wrapping ErrInvalidLayout, never a
//     panic; an allocation that cannot be satisfied gets one wrapping
//     ErrOutOfMemory, never a nil pointer with a nil error.
//   - Deallocate(p, l) gives back a block that Allocate, Grow or Shrink
//     returned with layout l. Deallocate(nil, l) does nothing. Giving back
//     a block twice, or with another layout, is undefined behaviour, as in
//     C (NewChecked catches it).
//   - Grow and Shrink resize the block at p from old to new and return the
//     block to use from then on, which may be p. The first min(old.Size,
//     new.Size) bytes are kept; the alignment may change. Grow needs
//     new.Size >= old.Size and Shrink new.Size <= old.Size, or they return
//     ErrInvalidLayout. If they fail, the block at p is untouched and still
//     the caller's.
//
// # Memory
//
// A block belongs to the caller from Allocate until Deallocate (or until
// a Grow or Shrink returns a new block). The garbage collector does not
// scan blocks: a Go pointer stored in one does not keep its target alive,
// so blocks must hold only pointer-free data (the typed containers of this
// package enforce it).
//
// Whether an Allocator is safe for concurrent use is stated by each
// implementation: the native backends and "go" are; the bump arena is not.
type Allocator interface {
	Allocate(l Layout) (unsafe.Pointer, error)
	Deallocate(p unsafe.Pointer, l Layout)
	Grow(p unsafe.Pointer, old, new Layout) (unsafe.Pointer, error)
	Shrink(p unsafe.Pointer, old, new Layout) (unsafe.Pointer, error)
}

// ZeroAllocator is implemented by allocators with their own path to
// zero-filled memory (calloc, MALLOCX_ZERO, mi_zalloc_aligned), which can
// skip clearing pages that come fresh, and zeroed, from the OS.
// AllocateZeroed uses it when it is there.
type ZeroAllocator interface {
	AllocateZeroed(l Layout) (unsafe.Pointer, error)
}

// ZeroGrower is implemented by allocators that can grow a block with the
// new bytes zeroed in one step (jemalloc's rallocx with MALLOCX_ZERO).
// GrowZeroed uses it when it is there.
type ZeroGrower interface {
	GrowZeroed(p unsafe.Pointer, old, new Layout) (unsafe.Pointer, error)
}

// UsableSizer is implemented by allocators that can tell how many bytes a
// block really has (malloc_usable_size): at least the Size it was
// allocated with, often more because of size classes, or 0 if it cannot
// tell (a pointer it does not know, or a wrapper such as Counting over an
// allocator without UsableSize). Only the Size asked
// for may be used through the Allocator contract; the figure is for
// diagnostics and for containers that want to grow into the slack with an
// explicit Grow.
type UsableSizer interface {
	UsableSize(p unsafe.Pointer) uintptr
}

// StatsReporter is implemented by allocators that report Stats.
type StatsReporter interface {
	Stats() (Stats, error)
}

// Purger is implemented by allocators that can give memory they hold
// but do not use back to the operating system on demand, instead of when
// their own policy would: glibc's malloc_trim, jemalloc's arena purge,
// mimalloc's mi_collect, tcmalloc's ReleaseFreeMemory, the Go heap's
// debug.FreeOSMemory. Blocks in use are untouched. Purge may take long (it
// walks and unmaps memory): call it from a goroutine that can wait, not
// from a hot path.
type Purger interface {
	Purge() error
}

// Native is implemented by the allocators that are a shared library loaded
// at run time: which file was loaded, and its version.
type Native interface {
	// Library is the name or path that dlopen accepted: "libjemalloc.so.2".
	Library() string
	// Version is the library's version as the library itself reports it
	// ("5.3.0-0-g54eaed1d...", "2.0.9"), or "" if it does not say.
	Version() string
}

// Tuner is implemented by allocators with settings that can be changed by
// name while the program runs: glibc's mallopt parameters, jemalloc's
// writable mallctls, mimalloc's options, tcmalloc's numeric properties,
// and so on. Tune parses value as the setting's type requires (a number,
// with a unit where it is a size: 4MiB; true or false; a string) and
// applies it to the whole process. An unknown name or a
// value the setting refuses is an error that says which, and lists the
// known names where the library can tell.
type Tuner interface {
	Tune(name, value string) error
}

// Stats is an allocator's own account of its memory, in bytes. Each
// backend documents where each figure comes from; a figure the backend
// cannot know is 0.
type Stats struct {
	// Allocated is the bytes in blocks handed out and not yet given back,
	// as the allocator counts them (often after rounding to a size class).
	Allocated uint64
	// Active is the bytes in pages the allocator uses for live blocks;
	// at least Allocated.
	Active uint64
	// Resident is the bytes of physical memory the allocator holds.
	Resident uint64
	// Mapped is the bytes of address space the allocator has mapped and
	// not returned to the OS.
	Mapped uint64
	// Retained is the bytes of address space the allocator keeps for
	// reuse after returning their pages to the OS (counted in no other
	// field).
	Retained uint64
	// Metadata is the bytes the allocator uses for its own bookkeeping.
	Metadata uint64
}

// AllocateZeroed allocates a block as a.Allocate does, with every byte
// set to zero. It uses a's own zeroing path if a is a ZeroAllocator.
func AllocateZeroed(a Allocator, l Layout) (unsafe.Pointer, error) {
	if z, ok := a.(ZeroAllocator); ok {
		return z.AllocateZeroed(l)
	}
	p, err := a.Allocate(l)
	if err != nil {
		return nil, err
	}
	clearBytes(p, l.Size)
	return p, nil
}

// GrowZeroed grows a block as a.Grow does, with the bytes from old.Size
// to new.Size set to zero. It uses a's own path if a is a ZeroGrower.
func GrowZeroed(a Allocator, p unsafe.Pointer, old, new Layout) (unsafe.Pointer, error) {
	if z, ok := a.(ZeroGrower); ok {
		return z.GrowZeroed(p, old, new)
	}
	q, err := a.Grow(p, old, new)
	if err != nil {
		return nil, err
	}
	clearBytes(unsafe.Add(q, old.Size), new.Size-old.Size)
	return q, nil
}

// Reallocate moves the block at p to a new block of layout new from the
// same allocator: Allocate, copy min(old.Size, new.Size) bytes, Deallocate
// the old block. It is what Grow and Shrink fall back to when a block
// cannot be resized in place (Rust's default Allocator::grow), for
// implementations of Allocator. If the allocation fails, the block at p is
// untouched and the error is returned.
func Reallocate(a Allocator, p unsafe.Pointer, old, new Layout) (unsafe.Pointer, error) {
	q, err := a.Allocate(new)
	if err != nil {
		return nil, err
	}
	copyBytes(q, p, min(old.Size, new.Size))
	a.Deallocate(p, old)
	return q, nil
}

// FitsInPlace reports whether a block at address p with usable bytes of
// room can serve layout new where it is: p is aligned to new.Align, the
// room holds new.Size, and new.Size uses at least half of it (so that a
// Shrink to a much smaller size moves the block and the memory can be
// reused). It is the rule this module's allocators follow when they
// resize a block their C library cannot resize at that alignment, for
// implementations of Allocator.
func FitsInPlace(p, room uintptr, new Layout) bool {
	return p%new.Align == 0 && new.Size <= room && new.Size >= room/2
}

// copyBytes copies n bytes from src to dst; the blocks may not overlap.
func copyBytes(dst, src unsafe.Pointer, n uintptr) {
	if n > 0 {
		copy(unsafe.Slice((*byte)(dst), n), unsafe.Slice((*byte)(src), n))
	}
}

// clearBytes zeroes n bytes at p.
func clearBytes(p unsafe.Pointer, n uintptr) {
	if n > 0 {
		clear(unsafe.Slice((*byte)(p), n))
	}
}
