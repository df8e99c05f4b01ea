// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package mimalloc_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/ffi"
	"github.com/nalloc/nalloc/mimalloc"
	"github.com/nalloc/nalloc/nalloctest"
)

func open(t testing.TB) *mimalloc.Allocator {
	t.Helper()
	a, err := mimalloc.Open()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestConformance(t *testing.T) {
	nalloctest.Run(t, nalloctest.Config{
		New:         func(t testing.TB) nalloc.Allocator { return open(t) },
		MayAllocate: ffi.FastPath == ffi.PathPurego,
	})
}

func TestHeapConformance(t *testing.T) {
	nalloctest.Run(t, nalloctest.Config{
		New: func(t testing.TB) nalloc.Allocator {
			return newHeap(t, open(t))
		},
		NotConcurrent:  true,
		StatsAllocated: true,
		MayAllocate:    ffi.FastPath == ffi.PathPurego,
	})
}

// runChild runs the test name again in a new test process, with env added
// to the environment, and returns its output; the test fails if the child
// fails or does not run the test.
func runChild(t *testing.T, name string, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.v")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child process (%s): %v\n%s", strings.Join(env, " "), err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+name) && !strings.Contains(string(out), "--- SKIP: "+name) {
		t.Fatalf("child process (%s) did not run %s:\n%s", strings.Join(env, " "), name, out)
	}
	return string(out)
}
