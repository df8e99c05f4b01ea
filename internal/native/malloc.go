// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package native

import (
	"fmt"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/ffi"
)

// MallocSpec names the C functions of a malloc-style allocator and says
// how they are shaped. It is data: the native backends differ only in what
// they write here, and a mimalloc heap is the same adapter with the heap
// functions and a guard (see Malloc).
//
// Every function but Free and UsableSize takes the heap as its first
// argument when the Malloc has one (mi_heap_malloc(heap, size)), and
// Free too when the heap is a zone (see Zone); the comments give the
// shapes without it.
type MallocSpec struct {
	// MinAlign is the alignment malloc, calloc and realloc give every
	// block. NaturalAlign, if larger, is the alignment they give blocks of
	// at least NaturalAlign bytes: C wants malloc's blocks to suit any
	// type that fits in them, up to max_align_t's 16 bytes, while smaller
	// blocks may come from an 8-byte size class (mimalloc, tcmalloc).
	MinAlign, NaturalAlign uintptr

	Malloc     string // void *malloc(size_t size)
	Calloc     string // void *calloc(size_t n, size_t size), called with n = 1
	Realloc    string // void *realloc(void *p, size_t size)
	Free       string // void free(void *p)
	UsableSize string // size_t usable_size(void *p)

	// Aligned allocates with an alignment above what malloc gives:
	// void *aligned(size_t align, size_t size), or with SizeFirst
	// void *aligned(size_t size, size_t align). It is called with a third
	// argument of 0, the offset of mimalloc's _at forms
	// (mi_malloc_aligned_at(size, align, 0)); C functions of two
	// arguments ignore it, as the C calling conventions allow.
	Aligned   string
	SizeFirst bool
	// ZeroAligned is Aligned's zeroing twin, with the same arguments
	// (mi_zalloc_aligned_at). Without it, AllocateZeroed at a large
	// alignment clears the block in Go.
	ZeroAligned string
	// AlignedRealloc resizes a block to an alignment above what realloc
	// keeps: void *realloc_aligned(void *p, size_t size, size_t align),
	// called with a fourth argument of 0 (mi_realloc_aligned_at's
	// offset). It must return a block aligned to align with the contents
	// kept, or NULL with p untouched. Without it, such blocks stay in
	// place when they fit and are moved by Allocate, copy and Deallocate
	// otherwise.
	AlignedRealloc string

	// Zone, if set, gives the Malloc a zone of its own in the library: a
	// C function, void *zone(size_t start_size, unsigned flags), that
	// Lib.Malloc calls once as zone(0, 0) on the slow path, and whose
	// result every other function but UsableSize then takes as its first
	// argument, Free included (macOS's malloc_create_zone, with
	// malloc_zone_malloc(zone, size), malloc_zone_free(zone, p) and the
	// others). Such a Malloc has no bare fast path (its calls go through
	// the general one, still on ffi's fast path below SlowThreshold),
	// never passes NULL to Free, and needs no warming: creating the zone
	// was the library's first call.
	Zone string
}

// Malloc is the nalloc.Allocator of a malloc-style C allocator, built from
// a MallocSpec by Lib.Malloc. A backend embeds it in its Allocator type,
// which then has Allocate, AllocateZeroed, Deallocate, Grow, Shrink,
// UsableSize and Library, and adds only what its library does
// differently.
//
// # The fast path
//
// Allocate and Deallocate of a block under SlowThreshold bytes at an
// alignment malloc gives anyway (Align <= MinAlign) are the common case:
// one C call on ffi's fast path, after one test that both validates the
// Layout and picks the path (ffi.FastMalloc.Aligns holds a bit for each alignment
// that needs nothing more, so an invalid alignment fails it too), with
// nothing kept live across the call. Everything else goes through
// allocateSlow and friends, which validate, choose malloc, the aligned
// call or the slow path by size, and map NULL to ErrOutOfMemory.
//
// The slow paths pass sizes of 0 as 1, so that every block has an address
// of its own and a matching free; the fast path passes 0 to malloc, which
// gives such a block in every library nalloc loads (and if one returned
// NULL, the slow path would ask again for 1 byte). Deallocate(nil, l)
// calls free(NULL), which every C allocator accepts as doing nothing; a
// zone's free is not called for nil at all.
//
// A Malloc is immutable once built and as safe for concurrent use as its
// C functions (every library nalloc loads is), except where a guard binds
// it to one thread (a mimalloc heap).
type Malloc struct {
	// fast is the fast path, with malloc and free: its Aligns is 0 in a
	// guarded Malloc, whose every call needs the guard, and in a zone's;
	// its Below is SlowThreshold, or 0 when every call must block; its
	// FreeBelow is Below, or 0 in a zone's Malloc, whose free takes the
	// zone (deallocateSlow passes it).
	fast ffi.FastMalloc

	minAlign, naturalAlign uintptr

	calloc, realloc, usable              uintptr
	aligned, zeroAligned, alignedRealloc uintptr
	sizeFirst                            bool

	// heap, if not 0, is passed first to every allocating call, and to
	// free too if zone is set (MallocSpec.Zone).
	heap  uintptr
	zone  bool
	guard *Guard

	name string // for errors: "glibc", "mimalloc heap"
	lib  *Lib
}

// Malloc resolves spec in l into a Malloc, and creates its zone if spec
// has one. A missing function is an error naming it.
func (l *Lib) Malloc(spec MallocSpec) (Malloc, error) {
	m := Malloc{
		minAlign:     spec.MinAlign,
		naturalAlign: max(spec.NaturalAlign, spec.MinAlign),
		sizeFirst:    spec.SizeFirst,
		fast:         ffi.FastMalloc{Below: SlowThreshold, FreeBelow: SlowThreshold},
		name:         l.spec.Name,
		lib:          l,
	}
	for a := uintptr(1); a <= spec.MinAlign; a <<= 1 {
		m.fast.Aligns |= 1 << a
	}
	syms := []Sym{
		{Name: spec.Malloc, Addr: &m.fast.Malloc}, {Name: spec.Calloc, Addr: &m.calloc},
		{Name: spec.Realloc, Addr: &m.realloc}, {Name: spec.Free, Addr: &m.fast.Free},
		{Name: spec.UsableSize, Addr: &m.usable}, {Name: spec.Aligned, Addr: &m.aligned},
	}
	if spec.ZeroAligned != "" {
		syms = append(syms, Sym{Name: spec.ZeroAligned, Addr: &m.zeroAligned})
	}
	if spec.AlignedRealloc != "" {
		syms = append(syms, Sym{Name: spec.AlignedRealloc, Addr: &m.alignedRealloc})
	}
	var zone uintptr
	if spec.Zone != "" {
		syms = append(syms, Sym{Name: spec.Zone, Addr: &zone})
	}
	if err := l.Symbols(syms...); err != nil {
		return Malloc{}, err
	}
	if zone != 0 {
		if m.heap = ffi.Slow2(zone, 0, 0); m.heap == 0 {
			return Malloc{}, fmt.Errorf("%s: %s(0, 0) returned NULL: %w", l.spec.Name, spec.Zone, nalloc.ErrOutOfMemory)
		}
		m.zone, m.fast.Aligns, m.fast.FreeBelow = true, 0, 0
	}
	return m, nil
}

// ZoneOf returns the zone that m's calls take first (MallocSpec.Zone), or
// 0 if it has none: for the backend's own calls on it (statistics,
// giving memory back).
func ZoneOf(m *Malloc) uintptr {
	if !m.zone {
		return 0
	}
	return m.heap
}

// OnHeap returns a Malloc whose calls go to heap through m's library's
// heap functions, named in spec, each checked by guard. name is used in
// its errors.
//
// The functions on Malloc that configure it (this one, SlowAlways) are
// functions rather than methods so that a backend embedding a Malloc does
// not export them.
func OnHeap(m *Malloc, spec MallocSpec, heap uintptr, guard *Guard, name string) (Malloc, error) {
	h, err := m.lib.Malloc(spec)
	if err != nil {
		return Malloc{}, err
	}
	h.heap, h.guard, h.name = heap, guard, name
	h.fast.Aligns = 0 // every call needs the guard
	h.fast.Below, h.fast.FreeBelow = m.fast.Below, m.fast.FreeBelow
	return h, nil
}

// SlowAlways makes every call take the slow path, for a library in a
// mode where any call may take long (jemalloc sampling for heap profiles).
func SlowAlways(m *Malloc) { m.fast.Below, m.fast.Aligns, m.fast.FreeBelow = 0, 0, 0 }

// warm makes the first call into the library on the slow path: it may
// take long, as the library initialises itself. A zone's Malloc needs
// none: creating the zone was that call.
func (m *Malloc) warm() {
	if !m.zone {
		ffi.Slow1(m.fast.Free, ffi.Slow1(m.fast.Malloc, 1))
	}
}

// fastPath is the fast path, which Backend.Open lists in internal/opened.
//
//lint:ignore U1000 called through Backend's type constraint, which staticcheck does not follow (dominikh/go-tools#1294)
func (m *Malloc) fastPath() *ffi.FastMalloc { return &m.fast }

// Library is the name or path that dlopen accepted.
func (m *Malloc) Library() string { return m.lib.Name() }

// Allocate implements nalloc.Allocator. Give the block back with
// Deallocate.
//
// Allocate and Deallocate are nosplit: their frames are a few words, and
// the switch to the system stack needs none of the goroutine's, so the
// stack check of their prologues would only cost instructions on every
// call (the linker verifies that the nosplit chain fits the guard area;
// the slow paths they call check the stack as usual).
//
//go:nosplit
func (m *Malloc) Allocate(l nalloc.Layout) (unsafe.Pointer, error) {
	// One test for "valid, aligned by malloc anyway, not the heap's"
	// (ffi.FastMalloc). C lets malloc(0) return NULL, which allocateSlow
	// then retries as 1 byte, as it does a NULL for any size (and says out
	// of memory if it is NULL again).
	if m.fast.Allocates(l.Size, l.Align) {
		if p := ffi.Fast1(m.fast.Malloc, l.Size); p != 0 {
			return ffi.Ptr(p), nil
		}
	}
	return m.allocateSlow(l)
}

func (m *Malloc) allocateSlow(l nalloc.Layout) (unsafe.Pointer, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	size := max(l.Size, 1)
	var p uintptr
	var ok bool
	if m.natural(l.Align, size) {
		p, ok = m.allocCall(size, m.fast.Malloc, size, 0, 0)
	} else {
		p, ok = m.alignedCall(m.aligned, size, l.Align)
	}
	return m.result(p, ok, "Allocate", l)
}

// AllocateZeroed implements nalloc.ZeroAllocator with calloc, or the
// zeroing aligned call, so that memory fresh from the OS is not cleared
// twice.
func (m *Malloc) AllocateZeroed(l nalloc.Layout) (unsafe.Pointer, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	size := max(l.Size, 1)
	var p uintptr
	var ok bool
	switch {
	case m.natural(l.Align, size):
		p, ok = m.allocCall(size, m.calloc, 1, size, 0)
	case m.zeroAligned != 0:
		p, ok = m.alignedCall(m.zeroAligned, size, l.Align)
	default:
		if p, ok = m.alignedCall(m.aligned, size, l.Align); p != 0 {
			clear(unsafe.Slice((*byte)(ffi.Ptr(p)), size))
		}
	}
	return m.result(p, ok, "AllocateZeroed", l)
}

// Deallocate implements nalloc.Allocator: free, on the fast path for
// blocks under SlowThreshold. free(NULL) does nothing in C, and free
// needs no guard: any thread may free any block, a mimalloc heap's
// included. A zone's free gets the zone first, and never NULL.
//
//go:nosplit
func (m *Malloc) Deallocate(p unsafe.Pointer, l nalloc.Layout) {
	if m.fast.Frees(l.Size) {
		ffi.Fast1(m.fast.Free, uintptr(p))
		return
	}
	m.deallocateSlow(p, l)
}

func (m *Malloc) deallocateSlow(p unsafe.Pointer, l nalloc.Layout) {
	switch {
	case p == nil:
	case m.zone:
		m.call(l.Size, m.fast.Free, m.heap, uintptr(p), 0, 0)
	default:
		ffi.Slow1(m.fast.Free, uintptr(p))
	}
}

// Grow implements nalloc.Allocator: realloc when what malloc guarantees
// is enough for the new layout; otherwise AlignedRealloc if the library
// has one, or in place when the block is already aligned and has the
// room, and allocate-copy-free otherwise.
func (m *Malloc) Grow(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	if err := nalloc.ValidateGrow(old, new); err != nil {
		return nil, err
	}
	return m.resize(p, old, new)
}

// Shrink implements nalloc.Allocator like Grow. A block with an alignment
// above what realloc keeps stays where it is if it keeps at least half of
// its usable size, and moves to a smaller block otherwise.
func (m *Malloc) Shrink(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	if err := nalloc.ValidateShrink(old, new); err != nil {
		return nil, err
	}
	return m.resize(p, old, new)
}

func (m *Malloc) resize(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	size := max(new.Size, 1)
	path := max(old.Size, size)
	var q uintptr
	var ok bool
	switch {
	case m.natural(new.Align, size):
		// realloc keeps MinAlign (and NaturalAlign for blocks that
		// large) whatever the old alignment was, and on failure leaves
		// the old block as it was.
		q, ok = m.allocCall(path, m.realloc, uintptr(p), size, 0)
	case m.alignedRealloc != 0:
		q, ok = m.allocCall(path, m.alignedRealloc, uintptr(p), size, new.Align)
	default:
		// realloc could move the block to an address that is only
		// MinAlign aligned, so it is not used past that.
		if nalloc.FitsInPlace(uintptr(p), m.usableSize(p), new) {
			return p, nil
		}
		return nalloc.Reallocate(m, p, old, new)
	}
	return m.result(q, ok, "resize", new)
}

// UsableSize implements nalloc.UsableSizer.
func (m *Malloc) UsableSize(p unsafe.Pointer) uintptr {
	if p == nil {
		return 0
	}
	return m.usableSize(p)
}

func (m *Malloc) usableSize(p unsafe.Pointer) uintptr { return ffi.Fast1(m.usable, uintptr(p)) }

// natural reports whether malloc, calloc and realloc align a block of
// size bytes to align.
func (m *Malloc) natural(align, size uintptr) bool {
	return align <= m.minAlign || (align <= m.naturalAlign && size >= align)
}

// alignedCall calls Aligned or ZeroAligned for size bytes at align. A
// large alignment may map a large region even for a small block, so the
// path goes by the larger of the two.
func (m *Malloc) alignedCall(fn, size, align uintptr) (uintptr, bool) {
	a0, a1 := align, size
	if m.sizeFirst {
		a0, a1 = size, align
	}
	return m.allocCall(max(size, align), fn, a0, a1, 0)
}

// allocCall calls an allocating function: fn(a0, a1, a2), or fn(heap, a0,
// a1, a2) in a heap's Malloc.
func (m *Malloc) allocCall(size, fn, a0, a1, a2 uintptr) (uintptr, bool) {
	if m.heap != 0 {
		return m.call(size, fn, m.heap, a0, a1, a2)
	}
	return m.call(size, fn, a0, a1, a2, 0)
}

// call calls fn on the path a block of size bytes calls for, through the
// guard if there is one. ok is false if the guard refused.
func (m *Malloc) call(size, fn, a0, a1, a2, a3 uintptr) (r uintptr, ok bool) {
	if g := m.guard; g != nil {
		if size < m.fast.Below {
			return ffi.FastIf(g.Check, g.Arg, g.Want, fn, a0, a1, a2, a3)
		}
		return ffi.SlowIf(g.Check, g.Arg, g.Want, fn, a0, a1, a2, a3)
	}
	if size < m.fast.Below {
		return ffi.Fast4(fn, a0, a1, a2, a3), true
	}
	return ffi.Slow4(fn, a0, a1, a2, a3), true
}

// result turns a C allocation's outcome into Allocate's.
func (m *Malloc) result(p uintptr, ok bool, op string, l nalloc.Layout) (unsafe.Pointer, error) {
	if !ok {
		return nil, m.guard.Refused(op)
	}
	if p == 0 {
		return nil, nalloc.OutOfMemory(m.name, l)
	}
	return ffi.Ptr(p), nil
}
