// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package jemalloc

import (
	"fmt"
	"math/bits"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/native"
)

var backend = native.Backend[*Allocator]{
	Spec: native.Spec{
		Name:    "jemalloc",
		Sonames: []string{"libjemalloc.so.2", "libjemalloc.so"},
		Package: "libjemalloc2",
		MacOS: native.MacOS{Dylibs: []string{"libjemalloc.2.dylib", "libjemalloc.dylib"},
			Formula: "jemalloc", DefaultZone: true},
		// The standard entry points: jemalloc keeps its fastest paths on
		// malloc and free (see the package doc, "Entry points").
		Malloc: native.MallocSpec{
			MinAlign: 8, NaturalAlign: 16, // the 8-byte class; every class above it is a multiple of the 16-byte quantum
			Malloc: "malloc", Calloc: "calloc", Realloc: "realloc", Free: "free",
			UsableSize: "malloc_usable_size",
			Aligned:    "memalign",
		},
		StaticTLS: &staticTLS,
	},
	New: newAllocator,
}

func init() { backend.Register() }

// full is the interfaces of package nalloc that both allocators of this
// package implement, beyond what the kernel checks of every backend.
type full interface {
	nalloc.Allocator
	nalloc.ZeroAllocator
	nalloc.ZeroGrower
	nalloc.UsableSizer
	nalloc.StatsReporter
	nalloc.Purger
}

var _, _ full = (*Allocator)(nil), (*Heap)(nil)

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
// The same function must give the same flags at allocation and at
// sdallocx, because sdallocx finds the size class from size and flags
// alone (see the package doc, "Heaps").
func alignFlags(size, align uintptr) uintptr {
	if align <= 8 || align == 16 && size > 8 {
		return 0
	}
	return uintptr(bits.TrailingZeros64(uint64(align)))
}

// xfuncs is jemalloc's own, non-standard API: the calls that take flags.
// Heaps make every call through it (their arena and tcache bits are
// flags); the Allocator uses it for what the standard calls cannot do
// (GrowZeroed, ResizeInPlace, SizeClass) and for mallctl.
type xfuncs struct {
	mallocx  uintptr // void *mallocx(size_t size, int flags)
	rallocx  uintptr // void *rallocx(void *ptr, size_t size, int flags)
	xallocx  uintptr // size_t xallocx(void *ptr, size_t size, size_t extra, int flags)
	sallocx  uintptr // size_t sallocx(const void *ptr, int flags)
	sdallocx uintptr // void sdallocx(void *ptr, size_t size, int flags)
	nallocx  uintptr // size_t nallocx(size_t size, int flags)
	mallctl  uintptr // int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)

	// slowAlways is set when jemalloc samples allocations for heap
	// profiles (opt.prof): an allocation may then take a backtrace (9 KiB
	// of stack, measured) or write a profile file, so every call takes
	// the slow path.
	slowAlways bool
}

// call calls fn(a0, a1, a2, a3) on the path a block of size bytes calls
// for.
func (f *xfuncs) call(size, fn, a0, a1, a2, a3 uintptr) uintptr {
	if f.slowAlways {
		return native.Slow4(fn, a0, a1, a2, a3)
	}
	return native.Sized(size, fn, a0, a1, a2, a3)
}

// allocate is Heap.Allocate and Heap.AllocateZeroed: mallocx with the
// heap's flags (and MALLOCX_ZERO in extra for the latter).
func (f *xfuncs) allocate(l nalloc.Layout, extra uintptr, name string) (unsafe.Pointer, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	size := max(l.Size, 1) // mallocx(0) is undefined behaviour
	p := f.call(size, f.mallocx, size, alignFlags(size, l.Align)|extra, 0, 0)
	if p == 0 {
		return nil, nalloc.OutOfMemory(name, l)
	}
	return native.Ptr(p), nil
}

// deallocate gives p back with sdallocx. jemalloc trusts the size: see
// alignFlags.
func (f *xfuncs) deallocate(p unsafe.Pointer, l nalloc.Layout, extra uintptr) {
	if p == nil {
		return
	}
	size := max(l.Size, 1)
	f.call(size, f.sdallocx, uintptr(p), size, alignFlags(size, l.Align)|extra, 0)
}

// resize is one rallocx, which resizes in place when it can (the same
// small size class, or a large extent that can grow into free pages after
// it or give back its tail) and otherwise allocates, copies and frees; it
// moves the block if p is not aligned to the new alignment. The new
// block's size class is always what nallocx gives for the new layout, so
// a later sdallocx with that layout is right. On failure rallocx returns
// NULL and leaves the block as it was.
//
// With zero, the bytes from old.Size to new.Size are zero afterwards.
// MALLOCX_ZERO alone does not promise that: jemalloc zeroes from the old
// block's real size (its size class, sallocx), not from old.Size, and a
// moved block gets a copy of the old one's whole real size. So the bytes
// between old.Size and the old real size are cleared here, in the result.
func (f *xfuncs) resize(p unsafe.Pointer, old, new nalloc.Layout, extra uintptr, zero bool, name string) (unsafe.Pointer, error) {
	size := max(new.Size, 1)
	flags := alignFlags(size, new.Align) | extra
	path := max(old.Size, size)
	var oldReal uintptr
	if zero {
		flags |= flagZero
		oldReal = f.call(path, f.sallocx, uintptr(p), 0, 0, 0)
	}
	q := f.call(path, f.rallocx, uintptr(p), size, flags, 0)
	if q == 0 {
		return nil, nalloc.OutOfMemory(name, new)
	}
	if zero {
		if end := min(oldReal, new.Size); end > old.Size {
			clear(unsafe.Slice((*byte)(native.Ptr(q+old.Size)), end-old.Size))
		}
	}
	return native.Ptr(q), nil
}

// resizeInPlace is ResizeInPlace: xallocx with no extra, which either
// gives the block exactly the size class of the new layout or leaves it
// alone. Success is judged by that class (nallocx), not by xallocx's
// result alone: on failure xallocx returns the old real size, which may
// well be at least new.Size.
func (f *xfuncs) resizeInPlace(p unsafe.Pointer, old, new nalloc.Layout, extra uintptr) (bool, error) {
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
	want := f.call(0, f.nallocx, size, flags, 0, 0)
	if want == 0 {
		return false, nil // the size is beyond every class
	}
	got := f.call(max(old.Size, size), f.xallocx, uintptr(p), size, 0, flags)
	return got == want, nil
}

// Allocator is jemalloc behind the nalloc.Allocator interface: blocks
// from the automatic arenas, through the calling thread's cache, with the
// standard calls (malloc, free, realloc, memalign; the package doc says
// why). A block is the caller's until Deallocate (or a Grow or Shrink that
// returns another); blocks are C memory, never scanned by the garbage
// collector. It is safe for concurrent use. Get one from Open or
// OpenLibrary; the zero value is not usable.
type Allocator struct {
	native.Malloc
	xfuncs

	statsPrint uintptr // void malloc_stats_print(void (*write_cb)(void *, const char *), void *cbopaque, const char *opts)

	page  uint64 // arenas.page
	stats bool   // config.stats: jemalloc was built with statistics
}

// Open returns the allocator of libjemalloc.so.2 (or libjemalloc.so).
// Every call returns the same Allocator.
//
// A missing library gives an error wrapping nalloc.ErrLibraryNotFound that
// names the Debian package, libjemalloc2. A library that is there but
// cannot be loaded because the process has no static TLS left (Debian's
// build, loaded after start) gives an error wrapping ErrStaticTLS, whose
// doc says what to do; see Reexec.
func Open() (*Allocator, error) { return backend.Open("") }

// OpenLibrary returns an allocator for the jemalloc library at path (a
// soname or a file), or Open's if path is empty. The same path gives the
// same Allocator. The library must export the unprefixed names (mallocx,
// not je_mallocx), as distributions build it.
func OpenLibrary(path string) (*Allocator, error) { return backend.Open(path) }

func newAllocator(lib *native.Lib, m native.Malloc) (*Allocator, error) {
	a := &Allocator{Malloc: m}
	if err := lib.Symbols(
		native.Sym{Name: "mallocx", Addr: &a.mallocx},
		native.Sym{Name: "rallocx", Addr: &a.rallocx},
		native.Sym{Name: "xallocx", Addr: &a.xallocx},
		native.Sym{Name: "sallocx", Addr: &a.sallocx},
		native.Sym{Name: "sdallocx", Addr: &a.sdallocx},
		native.Sym{Name: "nallocx", Addr: &a.nallocx},
		native.Sym{Name: "mallctl", Addr: &a.mallctl},
		native.Sym{Name: "malloc_stats_print", Addr: &a.statsPrint},
	); err != nil {
		return nil, err
	}
	var err error
	if a.page, err = Mallctl[uint64](a, "arenas.page"); err != nil {
		return nil, fmt.Errorf("jemalloc: %s does not answer mallctl: %w", lib.Name(), err)
	}
	a.stats, _ = Mallctl[bool](a, "config.stats")
	if prof, _ := Mallctl[bool](a, "opt.prof"); prof {
		a.slowAlways = true
		native.SlowAlways(&a.Malloc)
	}
	return a, nil
}

// GrowZeroed is Grow with the bytes from old.Size to new.Size set to
// zero, in one rallocx with MALLOCX_ZERO (see the package doc for what
// jemalloc zeroes and what is cleared here).
func (a *Allocator) GrowZeroed(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	if err := nalloc.ValidateGrow(old, new); err != nil {
		return nil, err
	}
	return a.resize(p, old, new, 0, true, "jemalloc")
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

// SizeClass returns the real size a block of layout l gets (nallocx),
// without allocating: what UsableSize will report. A container can round
// its capacity up to it and lose nothing. It returns 0 for an invalid
// layout or one larger than jemalloc's largest class.
func (a *Allocator) SizeClass(l nalloc.Layout) uintptr {
	if l.Validate() != nil {
		return 0
	}
	size := max(l.Size, 1)
	return a.call(0, a.nallocx, size, alignFlags(size, l.Align), 0, 0)
}

// Purge implements nalloc.Purger: the unused dirty pages of every arena go
// back to the OS at once (arena.<MALLCTL_ARENAS_ALL>.purge), instead of
// when their decay time runs out. Blocks cached in threads' tcaches are
// not dirty pages and stay.
func (a *Allocator) Purge() error { return a.MallctlDo("arena.4096.purge") }

// Version returns jemalloc's version string ("5.3.0-0-g54eaed1d..."), or
// "" if the library does not say.
func (a *Allocator) Version() string {
	v, _ := Mallctl[string](a, "version")
	return v
}

// Page is jemalloc's page size (arenas.page), the unit of its extents:
// 4 KiB on Debian's amd64 build, 64 KiB on its arm64 build.
func (a *Allocator) Page() uintptr { return uintptr(a.page) }
