// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/nalloc/nalloc/internal/platform"
)

// The native column: the workloads of shootout.c, compiled at run time
// with the system C compiler and run against each native library in the
// same session as the Go runs.

//go:embed csrc/shootout.c
var cSource []byte

// nativeRecipe is how the C side reaches an allocator: the library and the
// pair of functions the nalloc backend calls for a block of blockAlign,
// so that Go and C time the same C code.
type nativeRecipe struct {
	Library     string // default soname; the backend's own, if it says, wins
	Alloc, Free string
	Kind        string // "plain": alloc(size), free(p); "x": mallocx(size, 0), sdallocx(p, size, 0)
}

var nativeRecipes = map[string]nativeRecipe{
	"glibc":    {Library: "libc.so.6", Alloc: "malloc", Free: "free", Kind: "plain"},
	"jemalloc": {Library: "libjemalloc.so.2", Alloc: "mallocx", Free: "sdallocx", Kind: "x"},
	"mimalloc": {Library: "libmimalloc.so.2", Alloc: "mi_malloc", Free: "mi_free", Kind: "plain"},
}

// nativeSide is the compiled C program, or why there is none.
type nativeSide struct {
	bin      string // the executable; "" if skipped
	compiler string // the compiler's first --version line
	skipped  string // why the column is not there
}

// buildNative compiles shootout.c into dir with the C compiler for this
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
	src := filepath.Join(dir, "shootout.c")
	bin := filepath.Join(dir, "shootout")
	if err := os.WriteFile(src, cSource, 0o644); err != nil {
		return nativeSide{skipped: "cannot write the C source: " + err.Error()}
	}
	out, err := exec.CommandContext(ctx, path, "-O2", "-pthread", "-o", bin, src, "-ldl").CombinedOutput()
	if err != nil {
		return nativeSide{skipped: fmt.Sprintf("%s could not compile the C workloads (%v): %s; "+
			"install a complete toolchain (apt-get install gcc libc6-dev)", cc, err, flatten(string(out)))}
	}
	ver, _ := exec.CommandContext(ctx, path, "--version").Output()
	first, _, _ := strings.Cut(string(ver), "\n")
	return nativeSide{bin: bin, compiler: strings.TrimSpace(first)}
}

// run runs workload w of the C program against r's library, killing it
// after childTimeout.
func (n nativeSide) run(ctx context.Context, r nativeRecipe, w *workload, p params) (childResult, error) {
	ctx, cancel := context.WithTimeout(ctx, childTimeout)
	defer cancel()
	args := append([]string{w.name, r.Library, r.Alloc, r.Free, r.Kind}, w.cArgs(p)...)
	cmd := exec.CommandContext(ctx, n.bin, args...)
	cmd.Env = childEnviron()
	var stdin []byte
	if w.cStdin != nil {
		stdin = w.cStdin(p)
	}
	res, err := runChild(ctx, cmd, stdin)
	if err != nil {
		return res, fmt.Errorf("C: %w", err)
	}
	return res, nil
}
