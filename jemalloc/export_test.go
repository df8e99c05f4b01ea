// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package jemalloc

import "github.com/nalloc/nalloc/internal/native"

// Linked reports whether this test binary was built with the
// nalloc_jemalloc_linked tag.
const Linked = linked

// FastBelow is the block size under which a's standard calls take the
// fast path.
func FastBelow(a *Allocator) uintptr { return native.FastBelow(&a.Malloc) }

// HeapsBlock reports whether a's heaps take the blocking path for every
// call.
func HeapsBlock(a *Allocator) bool { return a.blockAlways }
