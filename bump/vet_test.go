// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package bump_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestVetReportsCopiedArena runs go vet on testdata/copyarena, a program
// that copies an Arena (cp := *ar, after which both hand out the same
// memory), and wants vet's copylocks check to report the copy.
func TestVetReportsCopiedArena(t *testing.T) {
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	out, err := exec.Command(gotool, "vet", "./testdata/copyarena").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "copies lock value to cp: github.com/nalloc/nalloc/bump.Arena") {
		t.Fatalf("go vet of a program that copies an Arena: %v\n%s\nwant it to report the copy", err, out)
	}
}
