// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package glibc is nalloc's backend for the GNU C library's malloc
// (ptmalloc2), the allocator every Debian process already has. Importing it
// registers "glibc" with nalloc.Open.
//
// Beyond the nalloc.Allocator contract it gives glibc's own controls:
// Mallinfo2 (the arena figures), Mallopt (M_MMAP_THRESHOLD and friends, by
// name), Trim (malloc_trim), Break (the program break) and Info
// (malloc_info's XML).
//
// # How the contract maps onto glibc
//
// malloc, calloc and realloc align to 16 bytes on 64-bit systems; larger
// alignments use memalign. realloc would not keep an alignment above 16, so
// Grow and Shrink of such blocks stay in place when the block has room, and
// otherwise allocate, copy and free. Deallocate is free. Blocks of 256 KiB
// and more (glibc's mmap territory) are allocated and freed on the
// slow call path, like every control.
//
// Latency: most calls are short, but a small malloc that finds the heap
// top exhausted first merges every free fastbin chunk
// (malloc_consolidate), and a call on the fast path cannot be preempted
// meanwhile (internal/native's package doc says why; docs/callpath.md has
// what each path costs).
// Mallopt(M_MXFAST, 0) removes the fastbins, and with them that backlog;
// or build with -tags nalloc_safecall.
//
// The library is libc.so.6 itself, already loaded into any dynamically
// linked process, so memory from this backend and from C code in the same
// process (cgo, other libraries) share glibc's arenas and its Mallinfo2.
package glibc

import (
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/native"
)

var backend = native.Backend[*Allocator]{
	Spec: native.Spec{
		Name:    "glibc",
		Sonames: []string{"libc.so.6"},
		Package: "libc6",
		Malloc: native.MallocSpec{
			MinAlign: 2 * unsafe.Sizeof(uintptr(0)), // MALLOC_ALIGNMENT: 16 on 64-bit systems
			Malloc:   "malloc", Calloc: "calloc", Realloc: "realloc", Free: "free",
			UsableSize: "malloc_usable_size",
			Aligned:    "memalign", // memalign(align, size)
		},
	},
	New: newAllocator,
}

func init() { backend.Register() }

// Allocator is glibc's malloc behind the nalloc.Allocator interface: the
// package doc says which C function serves which call. A block is the
// caller's until Deallocate (or a Grow or Shrink that returns another);
// blocks are C memory, never scanned by the garbage collector. It is safe
// for concurrent use. Get one from Open or OpenLibrary; the zero value is
// not usable.
type Allocator struct {
	native.Malloc
	lib *native.Lib

	// The controls; 0 where this libc lacks the function.
	mallinfo2, mallopt, mallocTrim    uintptr
	mallocInfo, openMemstream, fclose uintptr
	gnuGetLibcVersion                 uintptr
}

// The kernel checks the capabilities every backend has (native.Allocator).
var _ nalloc.StatsReporter = (*Allocator)(nil)

// Open returns the allocator of the process's own C library, libc.so.6.
// Every call returns the same Allocator.
func Open() (*Allocator, error) { return backend.Open("") }

// OpenLibrary returns an allocator for the C library at path (a soname or
// a file), or libc.so.6 if path is empty. The same path gives the same
// Allocator.
func OpenLibrary(path string) (*Allocator, error) { return backend.Open(path) }

func newAllocator(lib *native.Lib, m native.Malloc) (*Allocator, error) {
	a := &Allocator{Malloc: m, lib: lib}
	// The controls are optional: a libc without one (mallinfo2 arrived in
	// glibc 2.33) still allocates, and the method says what is missing.
	lib.Optional(
		native.Sym{Name: "mallinfo2", Addr: &a.mallinfo2},
		native.Sym{Name: "mallopt", Addr: &a.mallopt},
		native.Sym{Name: "malloc_trim", Addr: &a.mallocTrim},
		native.Sym{Name: "malloc_info", Addr: &a.mallocInfo},
		native.Sym{Name: "open_memstream", Addr: &a.openMemstream},
		native.Sym{Name: "fclose", Addr: &a.fclose},
		native.Sym{Name: "gnu_get_libc_version", Addr: &a.gnuGetLibcVersion},
	)
	return a, nil
}

// Version returns the version of the C library (gnu_get_libc_version),
// "2.36" for example, or "" if it does not say.
func (a *Allocator) Version() string {
	if a.gnuGetLibcVersion == 0 {
		return ""
	}
	return native.GoString(native.Slow1(a.gnuGetLibcVersion, 0))
}
