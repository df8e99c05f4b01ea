// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package jemalloc_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/nalloc/nalloc/jemalloc"
)

// TestMain re-executes the test binary with the static-TLS tunable when
// Debian's libjemalloc.so.2 needs it, so that the tests need no set-up
// (see jemalloc.Reexec). If jemalloc cannot be loaded at all, the tests
// run anyway and fail with Open's error.
func TestMain(m *testing.M) {
	if err := jemalloc.Reexec(); err != nil {
		fmt.Fprintln(os.Stderr, "jemalloc tests:", err)
	}
	os.Exit(m.Run())
}
