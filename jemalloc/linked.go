// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !nalloc_jemalloc_linked

package jemalloc

// linked reports whether this build names libjemalloc.so.2 as DT_NEEDED
// (the nalloc_jemalloc_linked tag).
const linked = false
