// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package arrowalloc_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/nalloc/nalloc/jemalloc"
)

// TestMain makes jemalloc loadable for the tests that run on every
// allocator: Debian's libjemalloc.so.2 needs static TLS that a process has
// only if it was started with the tunable, so Reexec restarts the test
// binary with it, once (see jemalloc.Reexec).
func TestMain(m *testing.M) {
	if err := jemalloc.Reexec(); err != nil {
		// The tests that open jemalloc fail with this error and its fix.
		fmt.Fprintln(os.Stderr, "arrowalloc_test: jemalloc.Reexec:", err)
	}
	os.Exit(m.Run())
}
