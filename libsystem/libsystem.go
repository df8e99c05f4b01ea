// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package libsystem is nalloc's backend for macOS's own malloc, the one in
// libSystem (/usr/lib/libSystem.B.dylib), which every macOS process
// already has. Importing it registers "libsystem" with nalloc.Open. It
// runs on macOS only: on any other system Open returns an error wrapping
// nalloc.ErrUnsupported, so that a program which imports every backend
// still builds and runs there.
//
// Beyond the nalloc.Allocator contract it gives the zone's own controls:
// Purge and PurgeBytes (malloc_zone_pressure_relief) and Statistics
// (malloc_zone_statistics).
//
// # A zone of its own
//
// macOS's malloc is a set of zones (malloc_zone_t), each an allocator
// with its own memory; malloc itself serves the default zone, which a
// library loaded later can replace (jemalloc, Homebrew's mimalloc and
// TCMalloc do as they load: see their AllowDefaultZone). The backend
// creates a zone of its own when it is first opened
// (malloc_create_zone(0, 0), a zone with macOS's default behaviour,
// registered with the system) and serves every call from it, so that it
// stays macOS's allocator whatever has become the default zone, and its
// Statistics and Purge count only nalloc's blocks. The zone lives as long
// as the process.
//
// # How the contract maps onto libSystem
//
// malloc_zone_malloc, malloc_zone_calloc and malloc_zone_realloc align
// every block to 16 bytes; larger alignments use malloc_zone_memalign,
// which takes any power of two from a pointer's size up, and any size.
// realloc would not keep an alignment above 16, so Grow and Shrink of
// such blocks stay in place when the block has room, and otherwise
// allocate, copy and free. Deallocate is malloc_zone_free (never called
// with nil); UsableSize is malloc_size, which finds the zone of the block
// itself.
//
// The backend is the shared native kernel's malloc adapter (the same
// code as every other backend's: layouts, the choice of call, resizing,
// errors) on a zone: the kernel creates the zone and passes it first to
// every call, free included (internal/native's MallocSpec.Zone), rather
// than this package calling C itself. With an argument in front, the
// adapter's bare fast path (malloc(size) and free(p) alone) does not
// apply, and every call takes its general path. On macOS nalloc calls C
// through purego.SyscallN on every path (docs/platforms.md): a call costs
// more than on Linux, and allocates on the Go heap.
//
// Built, vetted and its tests linked for darwin/arm64 and darwin/amd64;
// not run by the project, which has no macOS machine (docs/platforms.md).
package libsystem

import (
	"fmt"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/native"
)

var backend = native.Backend[*Allocator]{
	Spec: native.Spec{
		Name:  "libsystem",
		MacOS: native.MacOS{Dylibs: []string{"/usr/lib/libSystem.B.dylib"}}, // part of macOS: no formula
		Malloc: native.MallocSpec{
			MinAlign: 16, // malloc(3): aligned for any type, SSE's included; on arm64 too
			Zone:     "malloc_create_zone",
			Malloc:   "malloc_zone_malloc", Calloc: "malloc_zone_calloc", Realloc: "malloc_zone_realloc",
			Free:       "malloc_zone_free",
			UsableSize: "malloc_size",
			Aligned:    "malloc_zone_memalign", // (zone, align, size)
		},
	},
	New: newAllocator,
}

func init() { backend.Register() }

// Allocator is macOS's malloc, on a zone of nalloc's own, behind the
// nalloc.Allocator interface: the package doc says which C function
// serves which call. A block is the caller's until Deallocate (or a Grow
// or Shrink that returns another); blocks are C memory, never scanned by
// the garbage collector. It is safe for concurrent use. Get one from Open
// or OpenLibrary; the zero value is not usable.
type Allocator struct {
	native.Malloc
	zone uintptr // malloc_zone_t *

	relief, statistics uintptr
}

// The kernel checks the capabilities every backend has (native.Allocator).
var _ nalloc.StatsReporter = (*Allocator)(nil)

// Open returns the allocator on nalloc's zone in libSystem. Every call
// returns the same Allocator. Off macOS the error wraps
// nalloc.ErrUnsupported.
func Open() (*Allocator, error) { return backend.Open("") }

// OpenLibrary returns an allocator for the libSystem at path, or Open's
// if path is empty. The same path gives the same Allocator; each has a
// zone of its own.
func OpenLibrary(path string) (*Allocator, error) { return backend.Open(path) }

func newAllocator(lib *native.Lib, m native.Malloc) (*Allocator, error) {
	a := &Allocator{Malloc: m, zone: native.ZoneOf(&m)}
	if err := lib.Symbols(
		native.Sym{Name: "malloc_zone_pressure_relief", Addr: &a.relief},
		native.Sym{Name: "malloc_zone_statistics", Addr: &a.statistics},
	); err != nil {
		return nil, err
	}
	return a, nil
}

// Version returns "": libSystem's malloc does not report a version of its
// own (it is macOS's).
func (a *Allocator) Version() string { return "" }

// Tune implements nalloc.Tuner, for the interface every native backend
// has: libSystem's malloc has no setting a program can change while it
// runs (its Malloc* environment variables, documented in malloc(3), are
// read at start), so every name gets an error wrapping
// nalloc.ErrUnsupported.
func (a *Allocator) Tune(name, value string) error {
	return fmt.Errorf("libsystem: %s=%s: no settings at run time: %w", name, value, nalloc.ErrUnsupported)
}

// Purge implements nalloc.Purger: PurgeBytes(0), as much as the zone can
// give back.
func (a *Allocator) Purge() error {
	a.PurgeBytes(0)
	return nil
}

// PurgeBytes is Purge aiming at n bytes, or at as much as the zone can
// give back if n is 0 (malloc_zone_pressure_relief(zone, n)), and returns
// the bytes it released. Blocks in use are untouched. It walks the zone's
// free memory: call it from a goroutine that can wait.
func (a *Allocator) PurgeBytes(n uintptr) uintptr { return native.Slow2(a.relief, a.zone, n) }
