// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package tbbmalloc is nalloc's backend for oneTBB's scalable allocator,
// loaded at run time from libtbbmalloc.so.2 (Debian: apt-get install
// libtbbmalloc2). Importing it registers "tbbmalloc" with nalloc.Open.
//
// Beyond the nalloc.Allocator contract it gives the library's two
// controls: scalable_allocation_mode (Tune and SetMode: huge pages, a soft
// heap limit, the size from which blocks are cached as huge objects) and
// scalable_allocation_command (Purge, PurgeThread: the allocator's
// buffers back to the OS).
//
// # How the contract maps onto tbbmalloc
//
// scalable_malloc, scalable_calloc and scalable_realloc align blocks of 9
// bytes and more to 16 (on 64-bit systems tbbmalloc rounds those sizes up
// to a multiple of 16) and smaller ones to 8. Larger alignments use
// scalable_aligned_malloc and, to resize, scalable_aligned_realloc, which
// keeps the alignment. Deallocate is
// scalable_free for every block (scalable_aligned_free is the same
// function), from any goroutine: a block freed by another thread than the
// one that allocated it goes back to its owner thread's bin through a
// lock-free list.
//
// tbbmalloc keeps no statistics it can report (there is no
// scalable_allocation_command for them), so the Allocator has no Stats:
// the process view (package osmem) is the way to watch it.
// scalable_msize serves UsableSize.
//
// # Loading tbbmalloc into a Go process
//
// The library is loaded with dlopen(RTLD_NOW|RTLD_LOCAL). It defines no
// malloc of its own (that is libtbbmalloc_proxy.so.2, which nalloc never
// loads), uses no static TLS (its thread state hangs off a pthread key),
// and so loads into a running process as it is. Its environment variables
// (TBB_MALLOC_USE_HUGE_PAGES, TBB_MALLOC_SET_HUGE_SIZE_THRESHOLD) are read
// when it initialises, on the first allocation. It reports no version: the
// library file's name (libtbbmalloc.so.2.8 for oneTBB 2021.8) is the only
// sign of it, so Version returns "".
package tbbmalloc

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nalloc/nalloc/internal/native"
)

var backend = native.Backend[*Allocator]{
	Spec: native.Spec{
		Name:    "tbbmalloc",
		Sonames: []string{"libtbbmalloc.so.2", "libtbbmalloc.so"},
		Package: "libtbbmalloc2",
		MacOS:   native.MacOS{Dylibs: []string{"libtbbmalloc.2.dylib", "libtbbmalloc.dylib"}, Formula: "tbb"},
		Malloc: native.MallocSpec{
			MinAlign: 8, NaturalAlign: 16,
			Malloc: "scalable_malloc", Calloc: "scalable_calloc", Realloc: "scalable_realloc", Free: "scalable_free",
			UsableSize: "scalable_msize",
			Aligned:    "scalable_aligned_malloc", SizeFirst: true, // (size, align)
			AlignedRealloc: "scalable_aligned_realloc", // (p, size, align)
		},
	},
	New: newAllocator,
}

func init() { backend.Register() }

// Allocator is tbbmalloc behind the nalloc.Allocator interface: the
// package doc says which C function serves which call. A block is the
// caller's until Deallocate (or a Grow or Shrink that returns another);
// blocks are C memory, never scanned by the garbage collector. It is safe
// for concurrent use. Get one from Open or OpenLibrary; the zero value is
// not usable.
type Allocator struct {
	native.Malloc

	mode, command uintptr // int scalable_allocation_mode(int, intptr_t), int scalable_allocation_command(int, void *)
}

// Open returns the allocator of libtbbmalloc.so.2. Every call returns the
// same Allocator. If the library is missing, the error wraps
// nalloc.ErrLibraryNotFound and names the Debian package to install.
func Open() (*Allocator, error) { return backend.Open("") }

// OpenLibrary returns an allocator for the tbbmalloc library at path (a
// soname or a file), or Open's if path is empty. The same path gives the
// same Allocator.
func OpenLibrary(path string) (*Allocator, error) { return backend.Open(path) }

func newAllocator(lib *native.Lib, m native.Malloc) (*Allocator, error) {
	a := &Allocator{Malloc: m}
	if err := lib.Symbols(
		native.Sym{Name: "scalable_allocation_mode", Addr: &a.mode},
		native.Sym{Name: "scalable_allocation_command", Addr: &a.command},
	); err != nil {
		return nil, err
	}
	return a, nil
}

// Version returns "": tbbmalloc does not report its version (see the
// package doc).
func (a *Allocator) Version() string { return "" }

// Mode is a scalable_allocation_mode parameter (AllocationModeParam in
// oneTBB's scalable_allocator.h).
type Mode int32

// The modes of oneTBB 2021.
const (
	// UseHugePages (TBBMALLOC_USE_HUGE_PAGES): 1 to back large blocks with
	// transparent huge pages where the system allows them.
	UseHugePages Mode = 0
	// SetSoftHeapLimit (TBBMALLOC_SET_SOFT_HEAP_LIMIT): a size in bytes
	// beyond which tbbmalloc returns cached memory to the OS before it
	// asks for more; 0 for none.
	SetSoftHeapLimit Mode = 1
	// SetHugeSizeThreshold (TBBMALLOC_SET_HUGE_SIZE_THRESHOLD): the block
	// size from which blocks count as huge objects, which tbbmalloc caches
	// when they are freed and does not release in its regular cleanups.
	SetHugeSizeThreshold Mode = 2
)

var modeNames = map[string]Mode{
	"use_huge_pages":          UseHugePages,
	"set_soft_heap_limit":     SetSoftHeapLimit,
	"set_huge_size_threshold": SetHugeSizeThreshold,
}

// The results of scalable_allocation_mode and _command (ScalableAllocationResult).
const (
	resultOK           = 0 // TBBMALLOC_OK
	resultInvalidParam = 1 // TBBMALLOC_INVALID_PARAM
	resultUnsupported  = 2 // TBBMALLOC_UNSUPPORTED
	resultNoMemory     = 3 // TBBMALLOC_NO_MEMORY
	resultNoEffect     = 4 // TBBMALLOC_NO_EFFECT
)

// ErrRefused is wrapped by the error of a call that tbbmalloc refused
// (SetMode, Purge, PurgeThread); the error names the call and tbbmalloc's
// result code.
var ErrRefused = errors.New("tbbmalloc: refused")

func resultError(op string, rc int32) error {
	why := map[int32]string{
		resultInvalidParam: "TBBMALLOC_INVALID_PARAM",
		resultUnsupported:  "TBBMALLOC_UNSUPPORTED",
		resultNoMemory:     "TBBMALLOC_NO_MEMORY",
	}[rc]
	if why == "" {
		why = fmt.Sprintf("result %d", rc)
	}
	return fmt.Errorf("%w: %s: %s", ErrRefused, op, why)
}

// SetMode sets an allocation mode for the whole process
// (scalable_allocation_mode).
func (a *Allocator) SetMode(m Mode, value int64) error {
	if rc := int32(native.Slow2(a.mode, uintptr(m), uintptr(value))); rc != resultOK {
		return resultError(fmt.Sprintf("scalable_allocation_mode(%d, %d)", m, value), rc)
	}
	return nil
}

// Tune implements nalloc.Tuner with SetMode: name is a mode as oneTBB
// writes it, with or without its TBBMALLOC_ prefix, in any case
// (TBBMALLOC_SET_SOFT_HEAP_LIMIT, set_soft_heap_limit), value a number with
// an optional unit (1GiB), or true and false for use_huge_pages.
func (a *Allocator) Tune(name, value string) error {
	return native.Tune("tbbmalloc", name, value, parseMode, a.SetMode)
}

// ErrUnknownMode is wrapped by Tune's error for a name that is not an
// allocation mode: the modes are TBBMALLOC_USE_HUGE_PAGES,
// TBBMALLOC_SET_SOFT_HEAP_LIMIT and TBBMALLOC_SET_HUGE_SIZE_THRESHOLD.
var ErrUnknownMode = errors.New("tbbmalloc: unknown allocation mode")

// parseMode returns the mode named name, with or without its TBBMALLOC_
// prefix, in any case.
func parseMode(name string) (Mode, error) {
	m, ok := modeNames[strings.TrimPrefix(strings.ToLower(name), "tbbmalloc_")]
	if !ok {
		return 0, fmt.Errorf("%w %q", ErrUnknownMode, name)
	}
	return m, nil
}

// The commands of scalable_allocation_command (ScalableAllocationCmd).
const (
	cleanAllBuffers    = 0 // TBBMALLOC_CLEAN_ALL_BUFFERS
	cleanThreadBuffers = 1 // TBBMALLOC_CLEAN_THREAD_BUFFERS
)

// Purge implements nalloc.Purger with scalable_allocation_command
// (TBBMALLOC_CLEAN_ALL_BUFFERS): the memory tbbmalloc caches for reuse
// (free large and huge blocks, empty slabs in the global pool) goes back
// to the OS. Nothing to clean is not an error.
func (a *Allocator) Purge() error {
	return a.clean(cleanAllBuffers, "TBBMALLOC_CLEAN_ALL_BUFFERS")
}

// PurgeThread cleans the calling thread's own caches
// (TBBMALLOC_CLEAN_THREAD_BUFFERS). A goroutine moves between threads: lock
// it (runtime.LockOSThread) around the allocations whose thread it means.
func (a *Allocator) PurgeThread() error {
	return a.clean(cleanThreadBuffers, "TBBMALLOC_CLEAN_THREAD_BUFFERS")
}

func (a *Allocator) clean(cmd uintptr, name string) error {
	if rc := int32(native.Slow2(a.command, cmd, 0)); rc != resultOK && rc != resultNoEffect {
		return resultError("scalable_allocation_command("+name+")", rc)
	}
	return nil
}
