// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package bump_test

import (
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bump"
	"github.com/nalloc/nalloc/nalloctest"
)

// FuzzAllocator runs the Allocator contract under the fuzzer (see
// nalloctest.Fuzz), with small chunks so that inputs cross chunk
// boundaries; FuzzArena covers Checkpoint, Rewind and Reset.
func FuzzAllocator(f *testing.F) {
	nalloctest.Fuzz(f, nalloctest.Config{New: func(t testing.TB) nalloc.Allocator { return bump.New(bump.WithChunkSize(1 << 10)) }})
}
