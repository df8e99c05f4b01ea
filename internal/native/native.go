// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package native holds what nalloc's native backends (glibc, jemalloc,
// mimalloc) share: loading a library with an error a user can act on,
// choosing the call path by block size, and Family, the malloc-style
// allocator that glibc and mimalloc are both instances of. Each backend
// package keeps only what its library does differently.
package native

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/ffi"
)

// BlockingThreshold is the block size from which calls take the blocking
// path (runtime.cgocall) instead of the fast path. Below it, malloc and
// free are almost always served from thread caches and bins in tens of
// nanoseconds. At and above it they routinely mmap, munmap or copy
// hundreds of kilobytes (glibc's default mmap threshold is 128 KiB, and it
// adapts upwards; jemalloc's large classes start at 16 KiB but are cached;
// mimalloc maps huge pages from 512 KiB): microseconds or more, which the
// fast path would spend holding its P, unpreemptible.
//
// It bounds the common case, not the worst one: no size does. A small
// glibc malloc that finds the top chunk exhausted first merges every free
// fastbin chunk (malloc_consolidate), and may then trim; after millions of
// small frees that took 57 ms on the fast path, and a stop-the-world
// waited for it (measured in review). jemalloc purges dirty pages inline
// now and then (4.5 ms worst seen). Programs that cannot have a pause of
// that order build with -tags nalloc_safecall, where a stop-the-world
// never waits for C; with glibc, Mallopt(M_MXFAST, 0) removes the
// fastbins and with them the backlog.
const BlockingThreshold = 256 << 10

// Call1 calls fn(a0) on the path a block of size bytes calls for.
func Call1(size, fn, a0 uintptr) uintptr {
	if size >= BlockingThreshold {
		return ffi.Block1(fn, a0)
	}
	return ffi.Fast1(fn, a0)
}

// Call2 is Call1 for fn(a0, a1).
func Call2(size, fn, a0, a1 uintptr) uintptr {
	if size >= BlockingThreshold {
		return ffi.Block2(fn, a0, a1)
	}
	return ffi.Fast2(fn, a0, a1)
}

// Call3 is Call1 for fn(a0, a1, a2).
func Call3(size, fn, a0, a1, a2 uintptr) uintptr {
	if size >= BlockingThreshold {
		return ffi.Block3(fn, a0, a1, a2)
	}
	return ffi.Fast3(fn, a0, a1, a2)
}

// Call4 is Call1 for fn(a0, a1, a2, a3).
func Call4(size, fn, a0, a1, a2, a3 uintptr) uintptr {
	if size >= BlockingThreshold {
		return ffi.Block4(fn, a0, a1, a2, a3)
	}
	return ffi.Fast4(fn, a0, a1, a2, a3)
}

// Spec says where a backend's library is and how to get it.
type Spec struct {
	Name    string   // the allocator's name: "jemalloc"
	Sonames []string // tried in order when no path is given
	Package string   // the Debian package that installs it: "libjemalloc2"
	// StaticTLS, if set, is wrapped into the error when dlopen fails
	// because the library needs static TLS that the process no longer has
	// (jemalloc); its text should give the remedies.
	StaticTLS error
}

// Load opens the library at path, or the first of spec.Sonames that loads
// if path is empty. A library that is not there gives an error wrapping
// nalloc.ErrLibraryNotFound that names the package to install.
func Load(spec Spec, path string) (*ffi.Library, error) {
	names := spec.Sonames
	if path != "" {
		names = []string{path}
	}
	lib, err := ffi.Load(names...)
	if err == nil {
		return lib, nil
	}
	if spec.StaticTLS != nil && strings.Contains(err.Error(), "static TLS") {
		return nil, fmt.Errorf("%s: %w\n(dlopen said: %v)", spec.Name, spec.StaticTLS, err)
	}
	if path != "" {
		return nil, fmt.Errorf("%w: %s: %v", nalloc.ErrLibraryNotFound, spec.Name, err)
	}
	return nil, fmt.Errorf("%w: %s: none of %s could be loaded (%v); install it with: apt-get install %s",
		nalloc.ErrLibraryNotFound, spec.Name, strings.Join(spec.Sonames, ", "), err, spec.Package)
}

// Symbols resolves syms in lib, saying which backend lacks which symbol.
func Symbols(spec Spec, lib *ffi.Library, syms ...ffi.Sym) error {
	if err := lib.Symbols(syms...); err != nil {
		return fmt.Errorf("%s: %s is not a usable %s library: %w", spec.Name, lib.Name(), spec.Name, err)
	}
	return nil
}

// ErrMissing is wrapped by a backend method whose C function this build of
// the library does not have (mallinfo2 before glibc 2.33, say).
var ErrMissing = errors.New("function not in this library")

// Register registers a backend's Open with nalloc.Register under name. A
// failed Open gives a nil Allocator, not a nil *T inside the interface
// (which would compare unequal to nil).
func Register[T nalloc.Allocator](name string, open func() (T, error)) {
	nalloc.Register(name, func() (nalloc.Allocator, error) {
		a, err := open()
		if err != nil {
			return nil, err
		}
		return a, nil
	})
}
