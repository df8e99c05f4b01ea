// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package shootout

import (
	"github.com/nalloc/nalloc"
	_ "github.com/nalloc/nalloc/all"                 // every backend registers itself, as in the command
	_ "github.com/nalloc/nalloc/bench/internal/peer" // and so do the peers
)

// An allocator of the test binary's own, a Go-side column like the peers.
func init() {
	nalloc.Register("test-go", func() (nalloc.Allocator, error) { return nalloc.NewGoHeap(), nil })
}
