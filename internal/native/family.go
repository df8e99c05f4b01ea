// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package native

import (
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/ffi"
)

// Family implements the nalloc.Allocator contract over a malloc-style C
// allocator: malloc, calloc, realloc and free guarantee MinAlign, and an
// aligned entry point serves larger alignments. glibc and mimalloc are
// Families; what differs between them is data in this struct (which
// functions, in which argument order), not code.
//
// Sizes of 0 are passed as 1, so that every block has an address of its
// own and a matching free (jemalloc and some malloc modes reject size 0).
//
// A Family is immutable after its backend fills it in, and as safe for
// concurrent use as its C functions (all three libraries are).
type Family struct {
	Name     string  // the allocator's name, for errors
	MinAlign uintptr // what malloc, calloc and realloc align every block to
	// NaturalAlign, if above MinAlign, is what malloc, calloc and realloc
	// align blocks of at least NaturalAlign bytes to: C requires malloc's
	// blocks to suit any type that fits in them, up to max_align_t's 16
	// bytes, while smaller blocks may get only MinAlign (mimalloc's 8-byte
	// size class). A layout of Align <= NaturalAlign and Size >= Align
	// then needs no aligned call.
	NaturalAlign uintptr

	Malloc           uintptr // void *malloc(size_t size)
	Calloc           uintptr // void *calloc(size_t n, size_t size)
	Realloc          uintptr // void *realloc(void *p, size_t size)
	Free             uintptr // void free(void *p)
	MallocUsableSize uintptr // size_t malloc_usable_size(void *p)

	// Aligned allocates with an alignment above MinAlign, with the
	// signature void *(size_t align, size_t size) (memalign), or with
	// SizeFirst, void *(size_t size, size_t align) (mi_malloc_aligned).
	Aligned   uintptr
	SizeFirst bool
	// ZeroAligned, if not 0, is Aligned's zeroing twin, with the same
	// argument order (mi_zalloc_aligned). Without it, AllocateZeroed with
	// a large alignment clears the block in Go.
	ZeroAligned uintptr
	// OffsetArg says Aligned and ZeroAligned take a third argument, the
	// offset in the block that must be aligned, which Family passes as 0
	// (mi_malloc_aligned_at, mi_zalloc_aligned_at): mimalloc before 2.1.0
	// misaligns some blocks from mi_malloc_aligned but not from its _at
	// form.
	OffsetArg bool
	// AlignedRealloc, if not 0, resizes blocks whose new alignment is above
	// MinAlign in one call: void *(void *p, size_t size, size_t align,
	// size_t offset), called with offset 0 (mi_realloc_aligned_at). It must
	// return a block aligned to align with the contents kept, or NULL with
	// p untouched. Without it, such blocks stay in place when they fit and
	// are moved by Allocate, copy and Deallocate otherwise.
	AlignedRealloc uintptr
}

// Warm makes the first call into the library on the system stack, where
// there is room for whatever it does to initialise itself; later calls fit
// the direct path's frame (see internal/ffi).
func (f *Family) Warm() {
	ffi.System(f.Free, ffi.System(f.Malloc, 1, 0, 0, 0, 0, 0), 0, 0, 0, 0, 0)
}

// Allocate implements nalloc.Allocator.
func (f *Family) Allocate(l nalloc.Layout) (unsafe.Pointer, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	size := max(l.Size, 1)
	var p uintptr
	if size < BlockingThreshold && l.Align <= f.MinAlign {
		p = ffi.Fast1(f.Malloc, size) // the common case, with one call
	} else if f.natural(l.Align, size) {
		p = Call1(size, f.Malloc, size)
	} else {
		p = f.aligned(f.Aligned, size, l.Align)
	}
	if p == 0 {
		return nil, nalloc.OutOfMemory(f.Name, l)
	}
	return ffi.Ptr(p), nil
}

// natural reports whether malloc, calloc and realloc align a block of size
// bytes to align.
func (f *Family) natural(align, size uintptr) bool {
	return align <= f.MinAlign || (align <= f.NaturalAlign && size >= align)
}

func (f *Family) aligned(fn, size, align uintptr) uintptr {
	a0, a1 := align, size
	if f.SizeFirst {
		a0, a1 = size, align
	}
	// A large alignment may map a large region even for a small block.
	path := max(size, align)
	if f.OffsetArg {
		return Call3(path, fn, a0, a1, 0)
	}
	return Call2(path, fn, a0, a1)
}

// AllocateZeroed implements nalloc.ZeroAllocator with calloc, or the
// zeroing aligned call, so that memory fresh from the OS is not cleared
// twice.
func (f *Family) AllocateZeroed(l nalloc.Layout) (unsafe.Pointer, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	size := max(l.Size, 1)
	var p uintptr
	switch {
	case f.natural(l.Align, size):
		p = Call2(size, f.Calloc, 1, size)
	case f.ZeroAligned != 0:
		p = f.aligned(f.ZeroAligned, size, l.Align)
	default:
		p = f.aligned(f.Aligned, size, l.Align)
		if p != 0 {
			clear(unsafe.Slice((*byte)(ffi.Ptr(p)), size))
		}
	}
	if p == 0 {
		return nil, nalloc.OutOfMemory(f.Name, l)
	}
	return ffi.Ptr(p), nil
}

// Deallocate implements nalloc.Allocator.
func (f *Family) Deallocate(p unsafe.Pointer, l nalloc.Layout) {
	if p == nil {
		return
	}
	if l.Size < BlockingThreshold {
		ffi.Fast1(f.Free, uintptr(p))
	} else {
		ffi.Block1(f.Free, uintptr(p))
	}
}

// Grow implements nalloc.Allocator: realloc when what malloc guarantees
// (MinAlign, or NaturalAlign for blocks that large) is enough for the new
// layout; otherwise AlignedRealloc if the library has one, or in place
// when the block is already aligned and has the room, and
// allocate-copy-free otherwise.
func (f *Family) Grow(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	if err := nalloc.ValidateGrow(old, new); err != nil {
		return nil, err
	}
	return f.resize(p, old, new)
}

// Shrink implements nalloc.Allocator like Grow. A block with an alignment
// above MinAlign stays where it is if it keeps at least half of its usable
// size, and moves to a smaller block otherwise.
func (f *Family) Shrink(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	if err := nalloc.ValidateShrink(old, new); err != nil {
		return nil, err
	}
	return f.resize(p, old, new)
}

func (f *Family) resize(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	if f.natural(new.Align, max(new.Size, 1)) {
		// realloc keeps MinAlign (and NaturalAlign for blocks that large)
		// whatever the old alignment was, and on failure leaves the old
		// block as it was.
		q := Call2(max(old.Size, new.Size), f.Realloc, uintptr(p), max(new.Size, 1))
		if q == 0 {
			return nil, nalloc.OutOfMemory(f.Name, new)
		}
		return ffi.Ptr(q), nil
	}
	if f.AlignedRealloc != 0 {
		q := Call4(max(old.Size, new.Size), f.AlignedRealloc, uintptr(p), max(new.Size, 1), new.Align, 0)
		if q == 0 {
			return nil, nalloc.OutOfMemory(f.Name, new)
		}
		return ffi.Ptr(q), nil
	}
	// realloc could move the block to an address that is only MinAlign
	// aligned, so it is not used past MinAlign.
	if uintptr(p)%new.Align == 0 {
		if room := f.usable(p); new.Size <= room && new.Size >= room/2 {
			return p, nil
		}
	}
	return nalloc.Reallocate(f, p, old, new)
}

// UsableSize implements nalloc.UsableSizer.
func (f *Family) UsableSize(p unsafe.Pointer) uintptr {
	if p == nil {
		return 0
	}
	return f.usable(p)
}

func (f *Family) usable(p unsafe.Pointer) uintptr { return ffi.Fast1(f.MallocUsableSize, uintptr(p)) }
