// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import "unsafe"

// MapFallbacks returns how many blocks m took from the Go heap because its
// allocator refused one that TryPut had not reserved.
func MapFallbacks[K comparable, V any](m *Map[K, V]) int { return m.alloc.fallbacks }

// MapSpareBytes returns the size of the block TryPut holds for m's next
// growth, 0 if none.
func MapSpareBytes[K comparable, V any](m *Map[K, V]) uintptr {
	return uintptr(len(m.alloc.spare)) * unsafe.Sizeof(m.alloc.spare[:1][0])
}

// UnknownAllocator is Open's error for a name nothing registered.
var UnknownAllocator = unknownAllocator
