// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestREADMEPrograms builds every Go program in README.md (each ```go
// block that starts with "package main") as a new user would copy it: in
// a module of its own that requires this one (replaced by this checkout),
// outside the repository's workspace. A snippet that no longer compiles
// fails here, not in a user's editor.
func TestREADMEPrograms(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs: not in -short")
	}
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(package main\n.*?)```").FindAllSubmatch(readme, -1)
	if len(blocks) == 0 {
		t.Fatal("README.md has no Go program (a ```go block starting with package main)")
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range blocks {
		dir := t.TempDir()
		mod := "module readme\n\ngo 1.26\n\nrequire github.com/nalloc/nalloc v0.0.0\n\nreplace github.com/nalloc/nalloc => " + root + "\n"
		for name, data := range map[string][]byte{"go.mod": []byte(mod), "go.sum": sum, "main.go": b[1]} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command(gotool, "build", "-mod=mod", "-o", os.DevNull, ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOARCH="+runtime.GOARCH)
		if out, err := cmd.CombinedOutput(); err != nil {
			first, _, _ := strings.Cut(string(b[1]), "\n\n")
			t.Errorf("README program %d (%s...) does not build: %v\n%s", i+1, first, err, out)
		}
	}
}
