// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nallocprom_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/nalloc/nalloc/jemalloc"
)

// TestMain makes jemalloc loadable (see jemalloc.Reexec).
func TestMain(m *testing.M) {
	if err := jemalloc.Reexec(); err != nil {
		fmt.Fprintln(os.Stderr, "nallocprom_test: jemalloc.Reexec:", err)
	}
	os.Exit(m.Run())
}
