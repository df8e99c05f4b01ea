// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

// This file is the shoot-out's only knowledge of the native backends, and
// it is temporary: internal/native's Specs (the backend kernel of issue
// 14) will give, for every registered native backend, exactly what
// nativeSpec holds, and this file then shrinks to
//
//	type nativeSpec = native.Spec
//	type nativePair = native.Pair
//	func nativeSpecs() []*nativeSpec { return native.Specs() }
//
// Nothing else in bench names a backend: the columns come from
// nalloc.Names, the C and cgo entry points from Pair, the user's
// libraries (-library) from OpenLibrary.

import (
	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/glibc"
	"github.com/nalloc/nalloc/jemalloc"
	"github.com/nalloc/nalloc/mimalloc"
)

// nativeSpec mirrors native.Spec: what a native backend says about its
// library.
type nativeSpec struct {
	Name    string   // the registered name: "jemalloc"
	Import  string   // the backend's package path
	Sonames []string // tried in order when no path is given
	Package string   // the Debian package that installs the library
	// Pair is the C functions the backend's Allocate and Deallocate call
	// for a small block at malloc's alignment: the C and cgo columns call
	// the same ones.
	Pair nativePair
	// OpenLibrary is the backend's OpenLibrary: the library at path (a
	// file or a soname), or the default sonames if path is "".
	OpenLibrary func(path string) (nalloc.Allocator, error)
}

// nativePair mirrors native.Pair. Kind says how they are called: "plain"
// is alloc(size), free(p); "sized" is alloc(size), free(p, size); "x" is
// alloc(size, 0), free(p, size, 0), jemalloc's mallocx and sdallocx.
type nativePair struct{ Alloc, Free, Kind string }

// nativeSpecs returns one spec per registered native backend, sorted by
// name.
func nativeSpecs() []*nativeSpec {
	return []*nativeSpec{
		{Name: "glibc", Import: "github.com/nalloc/nalloc/glibc", Sonames: []string{"libc.so.6"}, Package: "libc6",
			Pair:        nativePair{"malloc", "free", "plain"},
			OpenLibrary: func(path string) (nalloc.Allocator, error) { return opened(glibc.OpenLibrary(path)) }},
		{Name: "jemalloc", Import: "github.com/nalloc/nalloc/jemalloc", Sonames: []string{"libjemalloc.so.2", "libjemalloc.so"}, Package: "libjemalloc2",
			Pair:        nativePair{"mallocx", "sdallocx", "x"},
			OpenLibrary: func(path string) (nalloc.Allocator, error) { return opened(jemalloc.OpenLibrary(path)) }},
		{Name: "mimalloc", Import: "github.com/nalloc/nalloc/mimalloc", Sonames: []string{"libmimalloc.so.2", "libmimalloc.so"}, Package: "libmimalloc2.0",
			Pair:        nativePair{"mi_malloc", "mi_free", "plain"},
			OpenLibrary: func(path string) (nalloc.Allocator, error) { return opened(mimalloc.OpenLibrary(path)) }},
	}
}

// opened turns a backend's (*T, error) into (nalloc.Allocator, error)
// without a non-nil interface holding a nil *T.
func opened[T nalloc.Allocator](a T, err error) (nalloc.Allocator, error) {
	if err != nil {
		return nil, err
	}
	return a, nil
}
