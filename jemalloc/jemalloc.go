// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package jemalloc

import (
	"fmt"
	"math/bits"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/ffi"
	"github.com/nalloc/nalloc/internal/native"
)

func init() {
	native.Register("jemalloc", Open)
}

// full is every interface of package nalloc: both allocators implement
// them all.
type full interface {
	nalloc.Allocator
	nalloc.ZeroAllocator
	nalloc.ZeroGrower
	nalloc.UsableSizer
	nalloc.StatsReporter
}

var _, _ full = (*Allocator)(nil), (*Arena)(nil)

var spec = native.Spec{
	Name:      "jemalloc",
	Sonames:   []string{"libjemalloc.so.2", "libjemalloc.so"},
	Package:   "libjemalloc2",
	StaticTLS: staticTLSError{},
}

// The mallocx flags, from <jemalloc/jemalloc_macros.h>. A flags word is a
// C int: bits 0-5 hold lg(alignment), bit 6 MALLOCX_ZERO, bits 8-19 the
// tcache, bits 20-31 the arena.
const (
	flagZero        = 0x40   // MALLOCX_ZERO
	flagTcacheNone  = 1 << 8 // MALLOCX_TCACHE_NONE, that is MALLOCX_TCACHE(-1)
	flagArenaShift  = 20     // MALLOCX_ARENA(a) is (a+1) << 20
	flagLgAlignMask = 0x3f   // MALLOCX_LG_ALIGN(la) is la
)

// alignFlags returns the MALLOCX_LG_ALIGN flag that a block of size bytes
// (size >= 1) aligned to align needs, or 0 when jemalloc's size classes
// give that alignment anyway. Every class is a multiple of 8, and every
// class above 8 a multiple of the 16-byte quantum (LG_QUANTUM 4 on amd64
// and arm64); slab regions sit at multiples of their class in page-aligned
// slabs, and large blocks are at least cache-line aligned. So flags 0
// covers align <= 8, and align 16 when size > 8; TestAlignFlags checks it
// against nallocx and real blocks.
//
// Flags 0 matters: it is the only value for which sdallocx takes its fast
// path (je_sdallocx: flags != 0 goes to sdallocx_default). And the same
// function must give the same flags at allocation and at Deallocate,
// because sdallocx finds the size class from size and flags alone (see
// the package doc, "Sized deallocation").
func alignFlags(size, align uintptr) uintptr {
	if align <= 8 || align == 16 && size > 8 {
		return 0
	}
	return uintptr(bits.TrailingZeros64(uint64(align)))
}

// funcs is the part of libjemalloc that nalloc calls, and the code that
// Allocator and Arena share: an Arena is the same calls with its arena and
// tcache bits added to every flags word.
type funcs struct {
	mallocx  uintptr // void *mallocx(size_t size, int flags)
	rallocx  uintptr // void *rallocx(void *ptr, size_t size, int flags)
	xallocx  uintptr // size_t xallocx(void *ptr, size_t size, size_t extra, int flags)
	sallocx  uintptr // size_t sallocx(const void *ptr, int flags)
	sdallocx uintptr // void sdallocx(void *ptr, size_t size, int flags)
	nallocx  uintptr // size_t nallocx(size_t size, int flags)
	mallctl  uintptr // int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)

	// fastBelow is the block size under which allocation, free and
	// resize take the fast path: native.BlockingThreshold, or 0 when
	// jemalloc samples allocations for heap profiles (opt.prof), where an
	// allocation may take a backtrace (9 KiB of stack, measured) or write
	// a profile file, which belong on the blocking path.
	fastBelow uintptr
}

// route is the size by which native.CallN picks the path for a call on a
// block of size bytes: size itself, or a size on the blocking path when
// fastBelow says so.
func (f *funcs) route(size uintptr) uintptr {
	if size < f.fastBelow {
		return size
	}
	return max(size, native.BlockingThreshold)
}

// allocate is Allocate with extra flags (the arena's) and the name for
// errors. The common case, a small block at a small alignment, is one
// call on the fast path.
func (f *funcs) allocate(l nalloc.Layout, extra uintptr, name string) (unsafe.Pointer, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	size := max(l.Size, 1) // mallocx(0) is undefined behaviour
	flags := alignFlags(size, l.Align) | extra
	var p uintptr
	if size < f.fastBelow {
		p = ffi.Fast2(f.mallocx, size, flags)
	} else {
		p = ffi.Block2(f.mallocx, size, flags)
	}
	if p == 0 {
		return nil, nalloc.OutOfMemory(name, l)
	}
	return ffi.Ptr(p), nil
}

// allocateZeroed is allocate with MALLOCX_ZERO, which skips clearing
// pages that come fresh (and so zeroed) from the OS.
func (f *funcs) allocateZeroed(l nalloc.Layout, extra uintptr, name string) (unsafe.Pointer, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	size := max(l.Size, 1)
	p := native.Call2(f.route(size), f.mallocx, size, alignFlags(size, l.Align)|flagZero|extra)
	if p == 0 {
		return nil, nalloc.OutOfMemory(name, l)
	}
	return ffi.Ptr(p), nil
}

// deallocate gives p back with sdallocx. jemalloc trusts the size: see
// alignFlags.
func (f *funcs) deallocate(p unsafe.Pointer, l nalloc.Layout, extra uintptr) {
	if p == nil {
		return
	}
	size := max(l.Size, 1)
	flags := alignFlags(size, l.Align) | extra
	if size < f.fastBelow {
		ffi.Fast3(f.sdallocx, uintptr(p), size, flags)
	} else {
		ffi.Block3(f.sdallocx, uintptr(p), size, flags)
	}
}

// resize is Grow and Shrink: one rallocx, which resizes in place when it
// can (the same small size class, or a large extent that can grow into
// free pages after it or give back its tail) and otherwise allocates,
// copies and frees; it moves the block if p is not aligned to the new
// alignment. The new block's size class is always what nallocx gives for
// the new layout, so Deallocate's sdallocx with that layout is right. On
// failure rallocx returns NULL and leaves the block as it was.
//
// With zero, the bytes from old.Size to new.Size are zero afterwards.
// MALLOCX_ZERO alone does not promise that: jemalloc zeroes from the old
// block's real size (its size class, sallocx), not from old.Size, and a
// moved block gets a copy of the old one's whole real size. So the bytes
// between old.Size and the old real size are cleared here, in the result.
func (f *funcs) resize(p unsafe.Pointer, old, new nalloc.Layout, extra uintptr, zero bool, name string) (unsafe.Pointer, error) {
	size := max(new.Size, 1)
	flags := alignFlags(size, new.Align) | extra
	path := f.route(max(old.Size, new.Size))
	var oldReal uintptr
	if zero {
		flags |= flagZero
		oldReal = native.Call2(path, f.sallocx, uintptr(p), 0)
	}
	q := native.Call3(path, f.rallocx, uintptr(p), size, flags)
	if q == 0 {
		return nil, nalloc.OutOfMemory(name, new)
	}
	if zero {
		if end := min(oldReal, new.Size); end > old.Size {
			clear(unsafe.Slice((*byte)(ffi.Ptr(q+old.Size)), end-old.Size))
		}
	}
	return ffi.Ptr(q), nil
}

// resizeInPlace is ResizeInPlace: xallocx with no extra, which either
// gives the block exactly the size class of the new layout or leaves it
// alone. Success is judged by that class (nallocx), not by xallocx's
// result alone: on failure xallocx returns the old real size, which may
// well be at least new.Size.
func (f *funcs) resizeInPlace(p unsafe.Pointer, old, new nalloc.Layout, extra uintptr) (bool, error) {
	if err := old.Validate(); err != nil {
		return false, err
	}
	if err := new.Validate(); err != nil {
		return false, err
	}
	if uintptr(p)%new.Align != 0 {
		return false, nil
	}
	size := max(new.Size, 1)
	flags := alignFlags(size, new.Align) | extra
	want := ffi.Fast2(f.nallocx, size, flags)
	if want == 0 {
		return false, nil // the size is beyond every class
	}
	got := native.Call4(f.route(max(old.Size, new.Size)), f.xallocx, uintptr(p), size, 0, flags)
	return got == want, nil
}

func (f *funcs) usableSize(p unsafe.Pointer) uintptr {
	if p == nil {
		return 0
	}
	return ffi.Fast2(f.sallocx, uintptr(p), 0)
}

// Allocator is jemalloc behind the nalloc.Allocator interface: blocks
// from the automatic arenas, through the calling thread's cache. A block
// from Allocate, AllocateZeroed, Grow or Shrink is the caller's until it
// is given back with Deallocate (or resized); blocks are C memory, never
// scanned by the garbage collector. It is safe for concurrent use. Get
// one from Open or OpenLibrary; the zero value is not usable.
type Allocator struct {
	funcs
	lib *ffi.Library

	page  uint64 // arenas.page
	stats bool   // config.stats: jemalloc was built with statistics
}

var opened native.Opened[Allocator]

// Open returns the allocator of libjemalloc.so.2 (or libjemalloc.so).
// Every call returns the same Allocator.
//
// A missing library gives an error wrapping nalloc.ErrLibraryNotFound that
// names the Debian package, libjemalloc2. A library that is there but
// cannot be loaded because the process has no static TLS left (Debian's
// build, loaded after start) gives an error wrapping ErrStaticTLS that
// says what to do; see Reexec.
func Open() (*Allocator, error) { return OpenLibrary("") }

// OpenLibrary returns an allocator for the jemalloc library at path (a
// soname or a file), or Open's if path is empty. The same path gives the
// same Allocator. The library must export the unprefixed names (mallocx,
// not je_mallocx), as distributions build it.
func OpenLibrary(path string) (*Allocator, error) { return opened.Get(path, openLibrary) }

func openLibrary(path string) (*Allocator, error) {
	lib, err := native.Load(spec, path)
	if err != nil {
		return nil, err
	}
	a := &Allocator{lib: lib}
	if err := native.Symbols(spec, lib,
		ffi.Sym{Name: "mallocx", Addr: &a.mallocx},
		ffi.Sym{Name: "rallocx", Addr: &a.rallocx},
		ffi.Sym{Name: "xallocx", Addr: &a.xallocx},
		ffi.Sym{Name: "sallocx", Addr: &a.sallocx},
		ffi.Sym{Name: "sdallocx", Addr: &a.sdallocx},
		ffi.Sym{Name: "nallocx", Addr: &a.nallocx},
		ffi.Sym{Name: "mallctl", Addr: &a.mallctl},
	); err != nil {
		return nil, err
	}
	// The first call, on the system stack: jemalloc initialises itself in
	// a constructor when it is loaded, but the calling thread's state (its
	// tsd and tcache) is set up on its first allocation.
	ffi.System(a.sdallocx, ffi.System(a.mallocx, 1, 0, 0, 0, 0, 0), 1, 0, 0, 0, 0)

	if a.page, err = Mallctl[uint64](a, "arenas.page"); err != nil {
		return nil, fmt.Errorf("jemalloc: %s does not answer mallctl: %w", lib.Name(), err)
	}
	a.stats, _ = Mallctl[bool](a, "config.stats")
	a.fastBelow = native.BlockingThreshold
	if prof, _ := Mallctl[bool](a, "opt.prof"); prof {
		a.fastBelow = 0 // see funcs.fastBelow
	}
	return a, nil
}

// Allocate returns a block from mallocx, with MALLOCX_LG_ALIGN when the
// size class alone would not give l.Align. Give it back with Deallocate.
func (a *Allocator) Allocate(l nalloc.Layout) (unsafe.Pointer, error) {
	return a.allocate(l, 0, "jemalloc")
}

// AllocateZeroed returns a zero-filled block from mallocx with
// MALLOCX_ZERO, which skips clearing pages fresh from the OS.
func (a *Allocator) AllocateZeroed(l nalloc.Layout) (unsafe.Pointer, error) {
	return a.allocateZeroed(l, 0, "jemalloc")
}

// Deallocate gives a block back with sdallocx, jemalloc's sized free: l
// must be the layout the block was allocated (or last resized) with, as
// the nalloc.Allocator contract says. Here a wrong layout is not merely
// undefined: jemalloc files the block under the size class l gives,
// corrupting the heap. nalloc.NewChecked catches such mistakes.
func (a *Allocator) Deallocate(p unsafe.Pointer, l nalloc.Layout) { a.deallocate(p, l, 0) }

// Grow enlarges a block with rallocx, which grows it in place when it can
// and otherwise moves it. If it fails, the block is as it was.
func (a *Allocator) Grow(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	if err := nalloc.ValidateGrow(old, new); err != nil {
		return nil, err
	}
	return a.resize(p, old, new, 0, false, "jemalloc")
}

// GrowZeroed is Grow with the bytes from old.Size to new.Size set to
// zero (rallocx with MALLOCX_ZERO; see the package doc for what jemalloc
// zeroes and what is cleared here).
func (a *Allocator) GrowZeroed(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	if err := nalloc.ValidateGrow(old, new); err != nil {
		return nil, err
	}
	return a.resize(p, old, new, 0, true, "jemalloc")
}

// Shrink reduces a block with rallocx. A block whose size class does not
// change stays in place; a large block gives back its tail in place; a
// small block moves to the smaller class.
func (a *Allocator) Shrink(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	if err := nalloc.ValidateShrink(old, new); err != nil {
		return nil, err
	}
	return a.resize(p, old, new, 0, false, "jemalloc")
}

// ResizeInPlace tries to resize the block at p from layout old to new
// without moving it (xallocx), for callers that must keep its address.
// It reports true if the block now has layout new (give it back with
// new), and false if it is unchanged (still old). Growth in place works
// within a size class, and for large blocks (16 KiB and up) when the
// pages after the block are free; shrinking in place works for large
// blocks. Invalid layouts give ErrInvalidLayout.
func (a *Allocator) ResizeInPlace(p unsafe.Pointer, old, new nalloc.Layout) (bool, error) {
	return a.resizeInPlace(p, old, new, 0)
}

// UsableSize returns sallocx(p): the block's real size, its size class.
func (a *Allocator) UsableSize(p unsafe.Pointer) uintptr { return a.usableSize(p) }

// SizeClass returns the real size a block of layout l gets (nallocx),
// without allocating: what UsableSize will report. A container can round
// its capacity up to it and lose nothing. It returns 0 for an invalid
// layout or one larger than jemalloc's largest class.
func (a *Allocator) SizeClass(l nalloc.Layout) uintptr {
	if l.Validate() != nil {
		return 0
	}
	size := max(l.Size, 1)
	return ffi.Fast2(a.nallocx, size, alignFlags(size, l.Align))
}

// Purge returns the unused dirty pages of every arena to the OS at once
// (arena.<MALLCTL_ARENAS_ALL>.purge), instead of when their decay time
// runs out. Blocks cached in threads' tcaches are not dirty pages and
// stay.
func (a *Allocator) Purge() error { return a.MallctlDo("arena.4096.purge") }

// Library is the name of the library this Allocator was loaded from.
func (a *Allocator) Library() string { return a.lib.Name() }

// Version returns jemalloc's version string ("5.3.0-0-g54eaed1d..."), or
// "" if the library does not say.
func (a *Allocator) Version() string {
	v, _ := Mallctl[string](a, "version")
	return v
}

// Page is jemalloc's page size (arenas.page), the unit of its extents.
func (a *Allocator) Page() uintptr { return uintptr(a.page) }
