// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build cgo

package arrowalloc_test

import "github.com/apache/arrow-go/v18/arrow/memory/mallocator"

// Arrow's Mallocator (C's calloc and free through cgo) needs cgo; its
// other cgo allocator, memory.CgoArrowAllocator (the ccalloc tag), needs
// the Arrow C++ library and is left out.
func init() {
	cgoImpls = append(cgoImpls, benchImpl{name: "arrow-mallocator", mem: mallocator.NewMallocator()})
}
