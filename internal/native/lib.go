// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package native

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/ffi"
)

// ErrMissing is wrapped by a backend method whose C function this build of
// the library does not have (mallinfo2 before glibc 2.33, say). It wraps
// nalloc.ErrUnsupported (and so errors.ErrUnsupported), which is what a
// program tests for.
var ErrMissing = fmt.Errorf("%w: function not in this library", nalloc.ErrUnsupported)

// Lib is a loaded library together with the Spec of the backend that
// loaded it, so that every error about it names the backend. It is
// immutable and safe for concurrent use.
type Lib struct {
	lib  *ffi.Library
	spec *Spec
}

// Sym names a C symbol and where its address goes.
type Sym = ffi.Sym

// load opens the library at path, or the first of the library's names on
// this system (libraryNames: spec.Sonames on Linux, spec.MacOS's on
// macOS) that loads if path is empty. A library that is not there gives
// an error wrapping nalloc.ErrLibraryNotFound that names the package to
// install; a backend that does not run on this system, one wrapping
// nalloc.ErrUnsupported.
func load(spec *Spec, path string) (*Lib, error) {
	names, source, err := libraryNames(spec, runtime.GOOS, runtime.GOARCH, os.Getenv("HOMEBREW_PREFIX"))
	if err != nil {
		return nil, err
	}
	if err := zoneCheck(spec, runtime.GOOS); err != nil {
		return nil, err
	}
	if path != "" {
		names = []string{path}
	}
	lib, err := ffi.Load(names...)
	if err == nil {
		return &Lib{lib: lib, spec: spec}, nil
	}
	if spec.StaticTLS != nil && strings.Contains(err.Error(), "static TLS") {
		return nil, fmt.Errorf("%w: %v", spec.StaticTLS.Err, err)
	}
	if path != "" {
		return nil, fmt.Errorf("%s: %w: %v", spec.Name, nalloc.ErrLibraryNotFound, err)
	}
	return nil, fmt.Errorf("%s: %w: %s (%s): %v",
		spec.Name, nalloc.ErrLibraryNotFound, strings.Join(names, ", "), source, err)
}

// Name is the name or path that dlopen accepted.
func (l *Lib) Name() string { return l.lib.Name() }

// Symbols resolves every symbol, or returns an error naming the first that
// is missing: a library that lacks one is not the library the backend
// expects.
func (l *Lib) Symbols(syms ...Sym) error {
	if err := l.lib.Symbols(syms...); err != nil {
		return fmt.Errorf("%s: %s is not a usable %s library: %w", l.spec.Name, l.Name(), l.spec.Name, err)
	}
	return nil
}

// Optional resolves the symbols that exist and leaves the others 0: for
// controls that a library may lack (mallinfo2 arrived in glibc 2.33);
// the method that needs one then returns an error wrapping ErrMissing.
func (l *Lib) Optional(syms ...Sym) {
	for _, s := range syms {
		*s.Addr, _ = l.lib.Symbol(s.Name)
	}
}

// Missing returns the error of a method whose C function fn the library
// lacks (fn is its C name).
func (l *Lib) Missing(fn string) error {
	return fmt.Errorf("%s: %s has no %s: %w", l.spec.Name, l.Name(), fn, ErrMissing)
}
