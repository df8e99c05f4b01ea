// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package jemalloc

// Linked reports whether this test binary was built with the
// nalloc_jemalloc_linked tag.
const Linked = linked

// FastBelow is the block size under which a's calls take the fast path.
func FastBelow(a *Allocator) uintptr { return a.fastBelow }
