// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

// The shoot-out's only knowledge of the native backends is what the
// backend kernel says of each registered one: nothing in bench names a
// backend. The columns come from nalloc.Names, the C and cgo entry points
// from Spec.Pair, the user's libraries (-library) from Spec.OpenLibrary.

import "github.com/nalloc/nalloc/internal/native"

// nativeSpec is what a native backend says about its library: its name,
// sonames, Debian package, the pair of C functions its Allocate and
// Deallocate call for a small block (Pair), and OpenLibrary.
type nativeSpec = native.Spec

// nativePair is a backend's pair: p = Alloc(size), Free(p), the only
// kind every backend declares and the only one the C and cgo sides call
// (TestNativeSpecs fails for a backend that declares another Kind).
type nativePair = native.Pair

// nativeSpecs returns one spec per registered native backend, sorted by
// name.
func nativeSpecs() []*nativeSpec { return native.Specs() }
