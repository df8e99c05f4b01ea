// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package jemalloc

// Linked reports whether this test binary was built with the
// nalloc_jemalloc_linked tag.
const Linked = linked

// SlowAlways reports whether every call of a and its heaps takes the
// slow path (newAllocator sets it together with native.SlowAlways).
func SlowAlways(a *Allocator) bool { return a.slowAlways }
