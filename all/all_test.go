// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package all_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/nalloc/nalloc"
	_ "github.com/nalloc/nalloc/all"
)

// linked are the names package all must register; extend it with each
// backend all imports.
var linked = []string{"bump", "glibc", "go", "jemalloc", "mimalloc"}

func TestRegistersEveryBackend(t *testing.T) {
	names := nalloc.Names()
	for _, n := range linked {
		if !slices.Contains(names, n) {
			t.Errorf("nalloc.Names() = %v: %q is missing", names, n)
		}
		// Registered means Open gets past the registry: a missing library
		// is the backend's own error, never "not linked in".
		if _, err := nalloc.Open(n); errors.Is(err, nalloc.ErrUnknownAllocator) {
			t.Errorf("Open(%q): %v", n, err)
		}
	}
}
