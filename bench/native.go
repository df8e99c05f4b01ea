// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/nalloc/nalloc/internal/platform"
)

// The C column: the workloads of csrc, compiled at run time with the
// system C compiler and run against each native library in the same
// session as the Go runs.

//go:embed csrc/*.c csrc/*.h
var cSources embed.FS

// nativeSide is the compiled C program, or why there is none.
type nativeSide struct {
	bin      string // the executable; "" if skipped
	compiler string // the compiler's first --version line
	skipped  string // why the column is not there
}

// buildNative compiles csrc into dir with the C compiler for this
// process's architecture (platform.CCompiler: $CC, cc, or the cross
// compiler of a linux/arm64 process under emulation, whose C side must run
// under the same emulator to be compared). A missing compiler, or one that
// fails, skips the column with a note that says how to get one; it is
// never fatal.
func buildNative(ctx context.Context, dir string) nativeSide {
	cc, err := platform.CCompiler()
	if err != nil {
		return nativeSide{skipped: err.Error()}
	}
	path, err := exec.LookPath(cc)
	if err != nil {
		return nativeSide{skipped: fmt.Sprintf("no C compiler (%s not found): install one (apt-get install gcc) or set CC", cc)}
	}
	var srcs []string
	err = fs.WalkDir(cSources, "csrc", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := cSources.ReadFile(name)
		if err != nil {
			return err
		}
		out := filepath.Join(dir, filepath.Base(name))
		if strings.HasSuffix(name, ".c") {
			srcs = append(srcs, out)
		}
		return os.WriteFile(out, b, 0o644)
	})
	if err != nil {
		return nativeSide{skipped: "cannot write the C sources: " + err.Error()}
	}
	bin := filepath.Join(dir, "shootout")
	args := append([]string{"-O2", "-pthread", "-o", bin}, srcs...)
	out, err := exec.CommandContext(ctx, path, append(args, "-ldl")...).CombinedOutput()
	if err != nil {
		return nativeSide{skipped: fmt.Sprintf("%s could not compile the C workloads (%v): %s; "+
			"install a complete toolchain (apt-get install gcc libc6-dev)", cc, err, flatten(string(out)))}
	}
	ver, _ := exec.CommandContext(ctx, path, "--version").Output()
	first, _, _ := strings.Cut(string(ver), "\n")
	return nativeSide{bin: bin, compiler: strings.TrimSpace(first)}
}

// cChild runs workload w of the C program against library, through the
// pair the backend calls.
func (r *runner) cChild(ctx context.Context, library string, pair nativePair, w *workload, p *params) (childResult, error) {
	if r.c.bin == "" {
		return childResult{}, fmt.Errorf("C: no C program: %s", r.c.skipped)
	}
	args := append([]string{r.c.bin, w.name, library, pair.Alloc, pair.Free}, w.cArgs(p)...)
	var stdin []byte
	if w.cStdin != nil {
		stdin = w.cStdin(p)
	}
	res, err := r.child(ctx, stdin, childEnviron(), args...)
	if err != nil {
		return res, fmt.Errorf("C: %w", err)
	}
	return res, nil
}
