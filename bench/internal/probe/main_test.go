// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package probe

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/nalloc/nalloc"
	_ "github.com/nalloc/nalloc/all" // every backend registers itself
	"github.com/nalloc/nalloc/bench/internal/metric"
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

// An allocator with settings (a nalloc.Tuner) that can give memory back
// (a nalloc.Purger), for -set and -trim.
func init() {
	nalloc.Register("test-tuner", func() (nalloc.Allocator, error) { return theTuner, nil })
}

// tuner is the test-tuner allocator: the Go heap, with one setting,
// "threshold", that takes a size, and a Purge that counts its calls.
type tuner struct {
	*nalloc.GoHeap
	mu        sync.Mutex
	threshold int64
	purges    int
}

var theTuner = &tuner{GoHeap: nalloc.NewGoHeap()}

func (t *tuner) Tune(name, value string) error {
	if name != "threshold" {
		return fmt.Errorf("test-tuner: unknown setting %q (known: threshold)", name)
	}
	v, err := metric.ParseSize(value)
	if err != nil {
		return fmt.Errorf("test-tuner: threshold: %w", err)
	}
	t.mu.Lock()
	t.threshold = v
	t.mu.Unlock()
	return nil
}

func (t *tuner) Purge() error {
	t.mu.Lock()
	t.purges++
	t.mu.Unlock()
	return nil
}
