// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package bump_test

import (
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"testing"
)

// TestTryAllocInlines checks, with the compiler's own report
// (go build -gcflags=-m=2), that TryAlloc stays within the inlining
// budget and is inlined into Alloc and Allocate: the fast path is only
// fast if it costs no call. A change that pushes it over the budget fails
// here, not silently in the benchmarks.
func TestTryAllocInlines(t *testing.T) {
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	// For the architecture of this test binary (a linux/arm64 one under
	// emulation, too), whose inliner this is about.
	cmd := exec.Command(gotool, "build", "-o", "/dev/null", "-gcflags=-m=2", ".")
	cmd.Env = append(os.Environ(), "GOARCH="+runtime.GOARCH)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m=2: %v\n%s", err, out)
	}
	can := regexp.MustCompile(`can inline \(\*Arena\)\.TryAlloc with cost (\d+)`).FindSubmatch(out)
	if can == nil {
		t.Fatalf("the compiler does not inline (*Arena).TryAlloc:\n%s",
			regexp.MustCompile(`(?m)^.*TryAlloc.*$`).FindAll(out, -1))
	}
	t.Logf("TryAlloc inline cost %s (budget 80)", can[1])
	calls := regexp.MustCompile(`inlining call to \(\*Arena\)\.TryAlloc`).FindAll(out, -1)
	if len(calls) < 2 {
		t.Errorf("TryAlloc is inlined at %d call sites in the package, want at least 2 (Alloc, Allocate)", len(calls))
	}
}
