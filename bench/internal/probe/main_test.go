// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package probe

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"

	_ "github.com/nalloc/nalloc/all"                 // every backend registers itself
	_ "github.com/nalloc/nalloc/bench/internal/peer" // the peers register themselves
	"github.com/nalloc/nalloc/jemalloc"
	"github.com/nalloc/nalloc/tcmalloc"
)

// TestMain makes jemalloc and TCMalloc loadable in this process, as the
// command does, and runs the probe itself when a test asks for it in a
// fresh process of this binary (runCommand), on its main thread, as main
// runs it.
func TestMain(m *testing.M) {
	_ = jemalloc.Reexec()
	_ = tcmalloc.Reexec()
	if args, ok := os.LookupEnv(runArgsEnv); ok {
		os.Exit(Run(context.Background(), strings.Fields(args), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

const runArgsEnv = "NALLOC_BENCH_PROBE_TEST_ARGS"

// run runs the probe in this process.
func run(args []string, stdout, stderr io.Writer) int {
	return Run(context.Background(), args, stdout, stderr)
}
