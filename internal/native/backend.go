// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package native

import (
	"slices"
	"strings"
	"sync"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/ffi"
	openedset "github.com/nalloc/nalloc/internal/opened"
)

// Spec is what a native backend declares about its library: where it is,
// how to get it, and its malloc-style functions.
type Spec struct {
	Name    string   // the name it registers with nalloc.Open: "jemalloc"
	Sonames []string // tried in order when no path is given
	Package string   // the Debian package that installs it: "libjemalloc2"
	MacOS   MacOS    // the library on macOS; zero if the backend does not run there
	// Malloc is the library's malloc-style functions (every library
	// nalloc loads has them).
	Malloc MallocSpec
	// StaticTLS is set for a library that dlopen may refuse for lack of
	// static TLS in a running process (jemalloc, and tcmalloc on arm64):
	// Backend.Reexec then re-executes the program in an environment
	// where it loads.
	StaticTLS *StaticTLS

	// Pair is set by Register: the C functions that Allocate and
	// Deallocate call for a small block at malloc's alignment, for tools
	// that time the same calls from C (the shoot-out).
	Pair Pair

	open func(path string) (nalloc.Allocator, error)
}

// Pair is a library's allocation and free as C code calls them.
type Pair struct {
	Alloc string // void *Alloc(size_t size)
	Free  string // see Kind
	// Kind is how C calls them: "plain", p = Alloc(size) and Free(p),
	// for every backend with no zone (a sized free is no faster:
	// docs/backends.md, "Entry points"); "zone", p = Alloc(zone, size)
	// and Free(zone, p) on a zone of the C side's own (MallocSpec.Zone),
	// for one with a zone.
	Kind string
}

// OpenLibrary opens the backend on the library at path (a soname or a
// file; "" for its default sonames), as the backend's own OpenLibrary
// does.
func (s *Spec) OpenLibrary(path string) (nalloc.Allocator, error) { return s.open(path) }

// Allocator is what every native backend's allocator can do: the contract,
// a zeroing path, usable sizes, and the capabilities of the root package
// that every library has (giving memory back, its name and version,
// settings by name). Stats are not here: not every library keeps them.
type Allocator interface {
	nalloc.Allocator
	nalloc.ZeroAllocator
	nalloc.UsableSizer
	nalloc.Purger
	nalloc.Native
	nalloc.Tuner

	// fastPath is the embedded Malloc's fast path (a method of Malloc's,
	// so every backend has it by embedding one).
	fastPath() *ffi.FastMalloc
}

// Backend is a native backend as the kernel runs it: its Spec, and New,
// which builds the backend's allocator on a freshly loaded library. It
// gives the backend loading with errors a user can act on, the first call
// on the slow path, one allocator per library path, and registration.
// A backend declares one in a package variable and calls Register from
// init; its Open and OpenLibrary are Backend.Open.
type Backend[T Allocator] struct {
	Spec
	// New builds the allocator: lib is the loaded library, m its
	// Spec.Malloc resolved. It resolves the backend's own functions (with
	// lib.Symbols or lib.Optional) and returns its Allocator, which
	// embeds m.
	New func(lib *Lib, m Malloc) (T, error)

	cache opened[T]
}

// Open returns the backend's allocator for the library at path (or the
// default sonames if path is ""): the same one on every call for the same
// path. A failed open is not kept, so a later call tries again.
func (b *Backend[T]) Open(path string) (T, error) {
	return b.cache.Get(path, func(path string) (T, error) {
		var zero T
		lib, err := load(&b.Spec, path)
		if err != nil {
			return zero, err
		}
		m, err := lib.Malloc(b.Malloc)
		if err != nil {
			return zero, err
		}
		// A library initialises itself on its first call, which may
		// take long: on the slow path.
		m.warm()
		a, err := b.New(lib, m)
		if err == nil {
			// For the GC pacer's Purge under pressure, and for
			// Profiled, which calls the fast path directly.
			openedset.Add(a, a.fastPath())
		}
		return a, err
	})
}

var specs struct {
	sync.Mutex
	list []*Spec
}

// Register registers the backend with nalloc.Register under its name and
// lists its Spec in Specs. Backends call it from init.
func (b *Backend[T]) Register() {
	b.Pair = Pair{Alloc: b.Malloc.Malloc, Free: b.Malloc.Free, Kind: "plain"}
	if b.Malloc.Zone != "" {
		b.Pair.Kind = "zone"
	}
	b.open = func(path string) (nalloc.Allocator, error) {
		a, err := b.Open(path)
		if err != nil {
			return nil, err // a nil Allocator, not a nil *T inside one
		}
		return a, nil
	}
	nalloc.Register(b.Name, func() (nalloc.Allocator, error) { return b.open("") })
	specs.Lock()
	defer specs.Unlock()
	specs.list = append(specs.list, &b.Spec)
}

// Specs returns the Spec of every registered native backend, sorted by
// name.
func Specs() []*Spec {
	specs.Lock()
	defer specs.Unlock()
	list := slices.Clone(specs.list)
	slices.SortFunc(list, func(a, b *Spec) int { return strings.Compare(a.Name, b.Name) })
	return list
}

// Load loads the library as Backend.Open would, without building an
// allocator: for tests of a Spec's errors, and for tools that look at a
// library.
func (s *Spec) Load(path string) (*Lib, error) { return load(s, path) }
