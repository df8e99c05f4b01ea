// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package workload

import (
	"os"
	"testing"

	"github.com/nalloc/nalloc/jemalloc"
	"github.com/nalloc/nalloc/tcmalloc"
)

// TestMain makes jemalloc and TCMalloc loadable in this process, as the
// shoot-out's children are (jemalloc.Reexec re-executes the test binary
// with the static-TLS tunable), for the cgo peer's dlopen of them.
func TestMain(m *testing.M) {
	_ = jemalloc.Reexec()
	_ = tcmalloc.Reexec()
	os.Exit(m.Run())
}
