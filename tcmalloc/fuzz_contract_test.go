// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !windows

package tcmalloc_test

import (
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/nalloctest"
)

// FuzzAllocator runs the Allocator contract under the fuzzer (see
// nalloctest.Fuzz).
func FuzzAllocator(f *testing.F) {
	nalloctest.Fuzz(f, nalloctest.Config{New: func(t testing.TB) nalloc.Allocator { return open(t) }})
}
