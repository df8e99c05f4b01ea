// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package tcmalloc is nalloc's backend for gperftools' TCMalloc, loaded at
// run time from libtcmalloc_minimal.so.4 (Debian: apt-get install
// libtcmalloc-minimal4), the build without the heap profiler and checker.
// Importing it registers "tcmalloc" with nalloc.Open.
//
// Beyond the nalloc.Allocator contract it gives the library's
// MallocExtension: numeric properties by name (Property, and Tune for the
// settable ones), the human-readable report (Info), and giving free
// memory back (Purge, PurgeBytes).
//
// # How the contract maps onto TCMalloc
//
// tc_malloc, tc_calloc and tc_realloc align blocks of 16 bytes and more to
// 16 and smaller ones to 8 (its 8-byte size class); larger alignments use
// tc_memalign. Deallocate is tc_free, from any goroutine: TCMalloc's
// thread caches take frees of blocks that other threads allocated.
// realloc does not keep an alignment above 16, so Grow and Shrink of such
// blocks stay in place when the block has room and move it otherwise.
// tc_free_sized exists, and would spare TCMalloc the page-map look-up of
// the block's size class, but it is no faster than tc_free
// (docs/backends.md, "Entry points") and it files a tc_memalign'ed block
// under the wrong class (memalign rounds the size up first), so nalloc
// does not use it.
//
// # Loading TCMalloc into a Go process
//
// The library is loaded with dlopen(RTLD_NOW|RTLD_LOCAL). It defines
// malloc, free, operator new and the rest, and wrappers of mmap, munmap,
// mremap and sbrk that run its MallocHook callbacks; RTLD_LOCAL keeps all
// of them out of the global scope, so the process's malloc stays glibc's
// and no system call of anyone else's goes through TCMalloc's wrappers
// (TestLoadDoesNotOverride).
//
// Its thread state is 88 bytes of initial-exec TLS, aligned to 64 bytes.
// glibc places such a block in the static TLS it keeps for libraries
// loaded late only if the alignment is no more than that of the static
// TLS block itself, fixed at start by what is loaded then. On linux/amd64
// that is 64 (glibc's thread descriptor), and the library dlopens into a
// running process with no set-up. On linux/arm64 it is less (with
// Debian's glibc 2.36, TLS aligned to 32 loads late and TLS aligned to 64
// does not), and dlopen fails with "cannot allocate memory in static TLS
// block" however much room there is: glibc.rtld.optional_static_tls,
// jemalloc's remedy, does not help. Open's error then wraps ErrStaticTLS,
// and Reexec, called first thing in main, re-executes the program once
// with the library in LD_PRELOAD behind glibc and libstdc++ (Preload):
// loaded at start, in the global scope but behind the libraries that
// define the same names, it still replaces nothing. This package's tests
// do it in TestMain, the bench command in main.
//
// TCMalloc takes memory from the OS with sbrk first and mmap once sbrk
// fails (TCMALLOC_SKIP_SBRK=true, read at its first allocation, skips
// sbrk); glibc's main arena grows the same program break, and each
// allocator sees the other's sbrk as a foreign one and keeps its own
// region apart (TestSharedBreak shows both growing the break,
// interleaved, and every block intact). TCMALLOC_* environment variables
// configure it (TCMALLOC_RELEASE_RATE,
// TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES, ...), read when the library
// initialises.
package tcmalloc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/native"
)

var backend = native.Backend[*Allocator]{
	Spec: native.Spec{
		Name:    "tcmalloc",
		Sonames: []string{"libtcmalloc_minimal.so.4", "libtcmalloc_minimal.so"},
		Package: "libtcmalloc-minimal4",
		MacOS: native.MacOS{Dylibs: []string{"libtcmalloc_minimal.4.dylib", "libtcmalloc_minimal.dylib"},
			Formula: "gperftools", DefaultZone: true},
		// On linux/arm64 dlopen cannot give the library static TLS.
		StaticTLS: &staticTLS,
		Malloc: native.MallocSpec{
			MinAlign: 8, NaturalAlign: 16,
			Malloc: "tc_malloc", Calloc: "tc_calloc", Realloc: "tc_realloc", Free: "tc_free",
			UsableSize: "tc_malloc_size",
			Aligned:    "tc_memalign", // (align, size)
		},
	},
	New: newAllocator,
}

func init() { backend.Register() }

// The kernel checks the capabilities every backend has (native.Allocator).
var _ nalloc.StatsReporter = (*Allocator)(nil)

// Allocator is TCMalloc behind the nalloc.Allocator interface: the package
// doc says which C function serves which call. A block is the caller's
// until Deallocate (or a Grow or Shrink that returns another); blocks are
// C memory, never scanned by the garbage collector. It is safe for
// concurrent use. Get one from Open or OpenLibrary; the zero value is not
// usable.
type Allocator struct {
	native.Malloc

	version                          uintptr // const char *tc_version(int *major, int *minor, const char **patch)
	getProperty, setProperty         uintptr // int MallocExtension_{Get,Set}NumericProperty(const char *name, size_t *value / size_t value)
	releaseFree, releaseToSys, stats uintptr // MallocExtension_ReleaseFreeMemory, _ReleaseToSystem, _GetStats
}

// Open returns the allocator of libtcmalloc_minimal.so.4. Every call
// returns the same Allocator. If the library is missing, the error wraps
// nalloc.ErrLibraryNotFound and names the Debian package to install.
func Open() (*Allocator, error) { return backend.Open("") }

// OpenLibrary returns an allocator for the TCMalloc library at path (a
// soname or a file: libtcmalloc.so.4, the build with the profiler, works
// too), or Open's if path is empty. The same path gives the same
// Allocator.
func OpenLibrary(path string) (*Allocator, error) { return backend.Open(path) }

func newAllocator(lib *native.Lib, m native.Malloc) (*Allocator, error) {
	a := &Allocator{Malloc: m}
	if err := lib.Symbols(
		native.Sym{Name: "tc_version", Addr: &a.version},
		native.Sym{Name: "MallocExtension_GetNumericProperty", Addr: &a.getProperty},
		native.Sym{Name: "MallocExtension_SetNumericProperty", Addr: &a.setProperty},
		native.Sym{Name: "MallocExtension_ReleaseFreeMemory", Addr: &a.releaseFree},
		native.Sym{Name: "MallocExtension_ReleaseToSystem", Addr: &a.releaseToSys},
		native.Sym{Name: "MallocExtension_GetStats", Addr: &a.stats},
	); err != nil {
		return nil, err
	}
	return a, nil
}

// Version returns the library's version, "2.10" for example (tc_version's
// major, minor and patch).
func (a *Allocator) Version() string {
	var major, minor int32
	var patch uintptr // const char *; the Slow functions keep all three on the heap for C
	native.Slow3(a.version, uintptr(unsafe.Pointer(&major)), uintptr(unsafe.Pointer(&minor)), uintptr(unsafe.Pointer(&patch)))
	return fmt.Sprintf("%d.%d%s", major, minor, native.GoString(patch))
}

// Property errors.
var (
	// ErrUnknownProperty: the library has no numeric property of that
	// name. gperftools' docs/tcmalloc.html lists them
	// (generic.current_allocated_bytes, tcmalloc.pageheap_free_bytes, ...).
	ErrUnknownProperty = errors.New("tcmalloc: unknown property")
	// ErrReadOnlyProperty: the library refused to set the property.
	// gperftools 2.10 lets two be set: tcmalloc.max_total_thread_cache_bytes
	// and tcmalloc.aggressive_memory_decommit.
	ErrReadOnlyProperty = errors.New("tcmalloc: property cannot be set")
)

// cString returns name as a NUL-terminated byte string.
func cString(name string) ([]byte, error) {
	if name == "" || strings.IndexByte(name, 0) >= 0 {
		return nil, fmt.Errorf("%w %q", ErrUnknownProperty, name)
	}
	return append([]byte(name), 0), nil
}

// Property returns a numeric property (MallocExtension_GetNumericProperty),
// such as "generic.current_allocated_bytes" or "tcmalloc.pageheap_free_bytes".
// An unknown name gives an error wrapping ErrUnknownProperty.
func (a *Allocator) Property(name string) (uint64, error) {
	cname, err := cString(name)
	if err != nil {
		return 0, err
	}
	var v uint64 // size_t, kept on the heap for C by Slow2
	if int32(native.Slow2(a.getProperty, uintptr(unsafe.Pointer(&cname[0])), uintptr(unsafe.Pointer(&v)))) == 0 {
		return 0, fmt.Errorf("%w %q", ErrUnknownProperty, name)
	}
	return v, nil
}

// Tune implements nalloc.Tuner with MallocExtension_SetNumericProperty:
// value is a size of 0 or more, with an optional unit (64MiB). gperftools
// 2.10 lets two properties be set: tcmalloc.max_total_thread_cache_bytes
// (how much the thread caches may hold together) and
// tcmalloc.aggressive_memory_decommit (1: give freed spans back to the OS
// at once); others give an error wrapping ErrReadOnlyProperty.
func (a *Allocator) Tune(name, value string) error {
	return native.Tune("tcmalloc", name, value, cString, func(cname []byte, v int64) error {
		if v < 0 {
			return fmt.Errorf("tcmalloc: %s=%s: %w", name, value, strconv.ErrRange)
		}
		if int32(native.Slow2(a.setProperty, uintptr(unsafe.Pointer(&cname[0])), uintptr(v))) == 0 {
			return fmt.Errorf("%w: %s", ErrReadOnlyProperty, name)
		}
		return nil
	})
}

// Stats reports TCMalloc's own account, from its numeric properties:
//
//   - Allocated: generic.current_allocated_bytes, the bytes in blocks the
//     program holds (at their size classes' sizes).
//   - Active: generic.heap_size less tcmalloc.pageheap_free_bytes and
//     tcmalloc.pageheap_unmapped_bytes: the bytes in spans carved into
//     blocks, in use or cached (in the central, transfer and thread
//     caches).
//   - Mapped and Resident: generic.heap_size less
//     tcmalloc.pageheap_unmapped_bytes, the heap's memory not given back
//     to the OS; TCMalloc does not know which pages are really resident,
//     so Resident is that figure as an upper bound.
//   - Retained: tcmalloc.pageheap_unmapped_bytes, address space kept after
//     its pages went back to the OS (Purge, PurgeBytes).
//   - Metadata: generic.total_physical_bytes less Mapped: TCMalloc's own
//     structures.
func (a *Allocator) Stats() (nalloc.Stats, error) {
	var v [5]uint64
	for i, name := range []string{"generic.current_allocated_bytes", "generic.heap_size",
		"tcmalloc.pageheap_free_bytes", "tcmalloc.pageheap_unmapped_bytes", "generic.total_physical_bytes"} {
		var err error
		if v[i], err = a.Property(name); err != nil {
			return nalloc.Stats{}, err
		}
	}
	allocated, heap, free, unmapped, physical := v[0], v[1], v[2], v[3], v[4]
	mapped := heap - unmapped
	return nalloc.Stats{
		Allocated: allocated,
		Active:    heap - free - unmapped,
		Resident:  mapped,
		Mapped:    mapped,
		Retained:  unmapped,
		Metadata:  physical - min(physical, mapped),
	}, nil
}

// Purge implements nalloc.Purger with MallocExtension_ReleaseFreeMemory:
// every free page of TCMalloc's page heap goes back to the OS (madvise).
// Blocks cached in the thread, transfer and central caches are not free
// pages and stay.
func (a *Allocator) Purge() error {
	native.Slow1(a.releaseFree, 0)
	return nil
}

// PurgeBytes is Purge for at least n bytes of the page heap's free pages,
// if it has them (MallocExtension_ReleaseToSystem): a program that gives
// memory back a little at a time spreads the cost of the madvise calls.
func (a *Allocator) PurgeBytes(n uintptr) { native.Slow1(a.releaseToSys, n) }

// Info returns TCMalloc's text report (MallocExtension_GetStats): the
// bytes in use, in each cache and in the page heap, and the size classes.
// It fails only if the buffer for the report cannot be allocated.
func (a *Allocator) Info() (string, error) {
	// The report is written into the caller's buffer and cut at its
	// length; 64 KiB holds the whole report of gperftools 2.10.
	buf, err := a.Allocate(nalloc.Layout{Size: 64 << 10, Align: 1})
	if err != nil {
		return "", fmt.Errorf("tcmalloc: Info: %w", err)
	}
	defer a.Deallocate(buf, nalloc.Layout{Size: 64 << 10, Align: 1})
	native.Slow2(a.stats, uintptr(buf), 64<<10)
	return native.GoString(uintptr(buf)), nil
}
