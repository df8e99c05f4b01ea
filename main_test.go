// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/nalloc/nalloc/jemalloc"
	"github.com/nalloc/nalloc/tcmalloc"
)

// TestMain makes jemalloc and TCMalloc loadable for the tests that run on
// every backend: Debian's libjemalloc.so.2 needs static TLS that a process
// has only if it was started with the tunable, and on linux/arm64
// libtcmalloc_minimal.so.4 needs to be loaded at start, so each Reexec
// restarts the test binary, once, with what its library needs (see
// jemalloc.Reexec and tcmalloc.Reexec).
func TestMain(m *testing.M) {
	if err := jemalloc.Reexec(); err != nil {
		// The tests that open jemalloc fail with this error and its fix.
		fmt.Fprintln(os.Stderr, "nalloc_test: jemalloc.Reexec:", err)
	}
	if err := tcmalloc.Reexec(); err != nil {
		fmt.Fprintln(os.Stderr, "nalloc_test: tcmalloc.Reexec:", err)
	}
	os.Exit(m.Run())
}
