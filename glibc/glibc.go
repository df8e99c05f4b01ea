// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package glibc is nalloc's backend for the GNU C library's malloc
// (ptmalloc2), the allocator every Debian process already has. Importing it
// registers "glibc" with nalloc.Open.
//
// Beyond the nalloc.Allocator contract it gives glibc's own controls:
// Mallinfo2 (the arena figures), Mallopt (M_MMAP_THRESHOLD and friends, by
// name), Trim (malloc_trim), Break (the program break, sbrk(0)) and Info
// (malloc_info's XML).
//
// # How the contract maps onto glibc
//
// malloc, calloc and realloc align to 16 bytes on 64-bit systems; larger
// alignments use memalign. realloc would not keep an alignment above 16, so
// Grow and Shrink of such blocks stay in place when the block has room, and
// otherwise allocate, copy and free. Blocks of 256 KiB and more (glibc's
// mmap territory) are allocated and freed on the blocking call path; see
// internal/native.BlockingThreshold.
//
// Latency: most calls take tens of nanoseconds, but a small malloc that
// finds the heap top exhausted first merges every free fastbin chunk
// (malloc_consolidate), unpreemptible on the fast path; after millions of
// small frees that took 57 ms. Mallopt(M_MXFAST, 0) removes the fastbins
// (small frees then go to the tcache and the ordinary bins), or build with
// -tags nalloc_safecall so that a stop-the-world never waits for it.
//
// The library is libc.so.6 itself, already loaded into any dynamically
// linked process, so memory from this backend and from C code in the same
// process (cgo, other libraries) share glibc's arenas and its Mallinfo2.
package glibc

import (
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/ffi"
	"github.com/nalloc/nalloc/internal/native"
)

func init() {
	native.Register("glibc", Open)
}

var spec = native.Spec{
	Name:    "glibc",
	Sonames: []string{"libc.so.6"},
	Package: "libc6",
}

// Allocator is glibc's malloc behind the nalloc.Allocator interface. It is
// safe for concurrent use. Get one from Open or OpenLibrary; the zero value
// is not usable.
type Allocator struct {
	f   native.Family
	lib *ffi.Library

	// The controls; 0 where this libc lacks the function.
	mallinfo2, mallopt, mallocTrim, sbrk uintptr
	mallocInfo, openMemstream, fclose    uintptr
	gnuGetLibcVersion                    uintptr
}

var opened native.Opened[Allocator]

// Open returns the allocator of the process's own C library, libc.so.6.
// Every call returns the same Allocator.
func Open() (*Allocator, error) { return OpenLibrary("") }

// OpenLibrary returns an allocator for the C library at path (a soname or
// a file), or libc.so.6 if path is empty. The same path gives the same
// Allocator.
func OpenLibrary(path string) (*Allocator, error) { return opened.Get(path, openLibrary) }

func openLibrary(path string) (*Allocator, error) {
	lib, err := native.Load(spec, path)
	if err != nil {
		return nil, err
	}
	a := &Allocator{lib: lib}
	a.f = native.Family{Name: "glibc", MinAlign: 2 * unsafe.Sizeof(uintptr(0))}
	if err := native.Symbols(spec, lib,
		ffi.Sym{Name: "malloc", Addr: &a.f.Malloc},
		ffi.Sym{Name: "calloc", Addr: &a.f.Calloc},
		ffi.Sym{Name: "realloc", Addr: &a.f.Realloc},
		ffi.Sym{Name: "free", Addr: &a.f.Free},
		ffi.Sym{Name: "memalign", Addr: &a.f.Aligned},
		ffi.Sym{Name: "malloc_usable_size", Addr: &a.f.MallocUsableSize},
	); err != nil {
		return nil, err
	}
	// The controls are optional: a libc without one (mallinfo2 arrived in
	// glibc 2.33) still allocates, and the method says what is missing.
	for _, s := range []ffi.Sym{
		{Name: "mallinfo2", Addr: &a.mallinfo2},
		{Name: "mallopt", Addr: &a.mallopt},
		{Name: "malloc_trim", Addr: &a.mallocTrim},
		{Name: "sbrk", Addr: &a.sbrk},
		{Name: "malloc_info", Addr: &a.mallocInfo},
		{Name: "open_memstream", Addr: &a.openMemstream},
		{Name: "fclose", Addr: &a.fclose},
		{Name: "gnu_get_libc_version", Addr: &a.gnuGetLibcVersion},
	} {
		*s.Addr, _ = lib.Symbol(s.Name)
	}
	a.f.Warm()
	return a, nil
}

// Allocate returns a block from malloc (alignments up to 16) or memalign.
// Give it back with Deallocate.
func (a *Allocator) Allocate(l nalloc.Layout) (unsafe.Pointer, error) { return a.f.Allocate(l) }

// AllocateZeroed returns a zero-filled block from calloc (alignments up to
// 16), which skips clearing memory fresh from the OS, or memalign and a
// clear.
func (a *Allocator) AllocateZeroed(l nalloc.Layout) (unsafe.Pointer, error) {
	return a.f.AllocateZeroed(l)
}

// Deallocate frees a block with free.
func (a *Allocator) Deallocate(p unsafe.Pointer, l nalloc.Layout) { a.f.Deallocate(p, l) }

// Grow enlarges a block with realloc, or as the package doc says for
// alignments above 16.
func (a *Allocator) Grow(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	return a.f.Grow(p, old, new)
}

// Shrink reduces a block with realloc, or as the package doc says for
// alignments above 16.
func (a *Allocator) Shrink(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	return a.f.Shrink(p, old, new)
}

// UsableSize returns malloc_usable_size(p): the block's real size, at
// least what was asked for.
func (a *Allocator) UsableSize(p unsafe.Pointer) uintptr { return a.f.UsableSize(p) }

// Library is the name of the C library this Allocator was loaded from.
func (a *Allocator) Library() string { return a.lib.Name() }

// Version returns the version of the C library (gnu_get_libc_version), or
// "" if it does not say.
func (a *Allocator) Version() string {
	if a.gnuGetLibcVersion == 0 {
		return ""
	}
	return ffi.GoString(ffi.Block1(a.gnuGetLibcVersion, 0))
}
