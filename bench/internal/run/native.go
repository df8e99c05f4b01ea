// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package run

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/nalloc/nalloc/bench/internal/workload"
	"github.com/nalloc/nalloc/internal/native"
	"github.com/nalloc/nalloc/internal/platform"
)

// The C column: the workloads of csrc (workload.CSources), compiled at
// run time with the system C compiler and run against each native
// library in the same session as the Go runs.

// NativeSide is the compiled C program, or why there is none.
type NativeSide struct {
	Bin      string // the executable; "" if skipped
	Compiler string // the compiler's first --version line
	Skipped  string // why the column is not there
}

// BuildNative compiles csrc into dir with the C compiler for this
// process's architecture (platform.CCompiler: $CC, cc, or the cross
// compiler of a linux/arm64 process under emulation, whose C side must run
// under the same emulator to be compared). A missing compiler, or one that
// fails, skips the column with a note that says how to get one; it is
// never fatal.
func BuildNative(ctx context.Context, dir string) NativeSide {
	cc, err := platform.CCompiler()
	if err != nil {
		return NativeSide{Skipped: err.Error()}
	}
	path, err := exec.LookPath(cc)
	if err != nil {
		return NativeSide{Skipped: fmt.Sprintf("no C compiler (%s not found): install one (apt-get install gcc) or set CC", cc)}
	}
	var srcs []string
	err = fs.WalkDir(workload.CSources, "csrc", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := workload.CSources.ReadFile(name)
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
		return NativeSide{Skipped: "cannot write the C sources: " + err.Error()}
	}
	bin := filepath.Join(dir, "shootout")
	args := append([]string{"-O2", "-pthread", "-o", bin}, srcs...)
	out, err := exec.CommandContext(ctx, path, append(args, "-ldl")...).CombinedOutput()
	if err != nil {
		return NativeSide{Skipped: fmt.Sprintf("%s could not compile the C workloads (%v): %s; "+
			"install a complete toolchain (apt-get install gcc libc6-dev)", cc, err, Flatten(string(out)))}
	}
	ver, _ := exec.CommandContext(ctx, path, "--version").Output()
	first, _, _ := strings.Cut(string(ver), "\n")
	return NativeSide{Bin: bin, Compiler: strings.TrimSpace(first)}
}

// CChild runs workload w of the C program against library, through the
// pair the backend calls.
func (r *Runner) CChild(ctx context.Context, library string, pair native.Pair, w *workload.Workload, p *workload.Params) (Result, error) {
	if r.C.Bin == "" {
		//lint:ignore ST1005 C is the language
		return Result{}, fmt.Errorf("C: no C program: %s", r.C.Skipped)
	}
	if pair.Kind != "plain" {
		//lint:ignore ST1005 C is the language
		return Result{}, fmt.Errorf("C: the C program calls plain pairs only, not %s's %s pair", library, pair.Kind)
	}
	args := append([]string{r.C.Bin, w.Name, library, pair.Alloc, pair.Free}, w.CArgs(p)...)
	var stdin []byte
	if w.CStdin != nil {
		stdin = w.CStdin(p)
	}
	res, err := r.child(ctx, stdin, Environ(), args...)
	if err != nil {
		//lint:ignore ST1005 C is the language
		return res, fmt.Errorf("C: %w", err)
	}
	return res, nil
}
