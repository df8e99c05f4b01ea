// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package jemalloc_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/jemalloc"
)

// With heap profiling on (MALLOC_CONF=prof:true), an allocation may take
// a backtrace, 9 KiB of stack, or write a profile: every call then takes
// the slow path. Checked in a child process started with that
// MALLOC_CONF, which jemalloc reads when it starts.
func TestProfilingTakesTheSlowPath(t *testing.T) {
	a := open(t)
	if os.Getenv("NALLOC_JEMALLOC_PROF_CHILD") == "1" {
		if !jemalloc.SlowAlways(a) {
			t.Fatal("with opt.prof, small calls still take the fast path")
		}
		l := nalloc.Layout{Size: 64, Align: 8}
		for range 10000 { // sampled at every byte: each one is profiled
			p, err := a.Allocate(l)
			if err != nil {
				t.Fatal(err)
			}
			a.Deallocate(p, l)
		}
		return
	}
	if prof, err := jemalloc.Mallctl[bool](a, "config.prof"); err != nil || !prof {
		t.Skipf("this jemalloc was built without profiling (config.prof = %v, %v)", prof, err)
	}
	if jemalloc.SlowAlways(a) {
		t.Error("without profiling, every call takes the slow path")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestProfilingTakesTheSlowPath$", "-test.v")
	cmd.Env = append(os.Environ(), "NALLOC_JEMALLOC_PROF_CHILD=1", "MALLOC_CONF=prof:true,lg_prof_sample:0")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("child with MALLOC_CONF=prof:true: %v\n%s", err, out)
	}
}
