// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package jemalloc_test

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/nalloc/nalloc/internal/platform"
	"github.com/nalloc/nalloc/jemalloc"
)

// cleanEnv is the environment without what TestMain's re-execution added,
// as a user's shell would have it.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GLIBC_TUNABLES=") && !strings.HasPrefix(kv, "NALLOC_JEMALLOC_REEXEC=") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// buildProg builds testdata/tlsprog with the test's cgo setting and tags,
// for the test binary's architecture (a linux/arm64 one runs its program
// under the same emulator), with cgo through the C compiler for it.
func buildProg(t *testing.T, tags string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the test program")
	}
	out := filepath.Join(t.TempDir(), "tlsprog")
	cmd := exec.Command(goTool, "build", "-o", out, "-tags", tags, "./testdata/tlsprog")
	cmd.Env = append(cleanEnv(), "CGO_ENABLED="+cgoEnabled, "GOARCH="+runtime.GOARCH)
	if cgoEnabled == "1" {
		cc, err := platform.CCompiler()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Env = append(cmd.Env, "CC="+cc)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags %q ./testdata/tlsprog (CGO_ENABLED=%s): %v\n%s", tags, cgoEnabled, err, b)
	}
	return out
}

func run(t *testing.T, prog string, env []string, args ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Env = env
	b, err := cmd.CombinedOutput()
	if _, exit := err.(*exec.ExitError); err != nil && !exit {
		t.Fatal(err)
	}
	return string(b), err == nil
}

// TestStaticTLSProgram builds a program that opens jemalloc, with this
// test's cgo setting (make test runs both), and runs it as a user would:
// plain, it fails with a one-line error wrapping ErrStaticTLS (whose doc
// has the remedies) and quoting dlopen; with Reexec, or the tunable
// set by hand, it works, keeping the user's own tunables.
func TestStaticTLSProgram(t *testing.T) {
	if jemalloc.Linked {
		t.Skip("the test binary itself is linked; TestLinkedProgram covers the tag")
	}
	prog := buildProg(t, "")

	out, ok := run(t, prog, cleanEnv())
	if ok || !strings.Contains(out, "ErrStaticTLS=true") {
		t.Fatalf("plain run (CGO_ENABLED=%s): want the static-TLS error, got:\n%s", cgoEnabled, out)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 ||
		!strings.HasPrefix(lines[1], "jemalloc: no static TLS left") || !strings.Contains(lines[1], "static TLS block") {
		t.Errorf("want one line of error, prefixed, wrapping ErrStaticTLS and quoting dlopen; got:\n%s", out)
	}
	t.Logf("plain run (CGO_ENABLED=%s):\n%s", cgoEnabled, out)

	out, ok = run(t, prog, cleanEnv("GLIBC_TUNABLES=glibc.malloc.arena_max=2"), "-reexec")
	want := "ok reexecuted=true malloc-is-glibc=true GLIBC_TUNABLES=glibc.malloc.arena_max=2:" + jemalloc.StaticTLSTunable
	if !ok || strings.TrimSpace(out) != want {
		t.Errorf("run with Reexec: got\n%s\nwant\n%s", out, want)
	}

	out, ok = run(t, prog, cleanEnv("GLIBC_TUNABLES="+jemalloc.StaticTLSTunable), "-reexec")
	if want := "ok reexecuted=false"; !ok || !strings.HasPrefix(out, want) {
		t.Errorf("run with the tunable set by hand: Reexec must not re-execute; got\n%s", out)
	}
}

// TestLinkedProgram builds the program with the nalloc_jemalloc_linked
// tag: the binary names libc.so.6 and then libjemalloc.so.2 as DT_NEEDED,
// and runs with no tunable and no re-execution, with glibc's malloc still
// the process's malloc.
func TestLinkedProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	prog := buildProg(t, jemalloc.LinkedTag)
	checkNeeded(t, prog)
	out, ok := run(t, prog, cleanEnv(), "-reexec")
	if want := "ok reexecuted=false malloc-is-glibc=true GLIBC_TUNABLES="; !ok || strings.TrimSpace(out) != want {
		t.Errorf("linked build (CGO_ENABLED=%s): got\n%s\nwant\n%s", cgoEnabled, out, want)
	}
}

// checkNeeded checks the DT_NEEDED entries of the binary at path, as
// readelf -d shows them: libjemalloc.so.2 is there, after libc.so.6.
func checkNeeded(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	needed, err := f.DynString(elf.DT_NEEDED)
	if err != nil {
		t.Fatal(err)
	}
	libc, je := slices.Index(needed, "libc.so.6"), slices.Index(needed, "libjemalloc.so.2")
	if je < 0 || libc < 0 || libc > je {
		t.Errorf("%s: DT_NEEDED %q; want libc.so.6, then libjemalloc.so.2", path, needed)
	}
	t.Logf("DT_NEEDED (CGO_ENABLED=%s): %q", cgoEnabled, needed)
}

// TestLinked runs when this test binary is built with the tag (make test
// does that in one step): the library was loaded at start, so TestMain's
// Reexec had nothing to do.
func TestLinked(t *testing.T) {
	if !jemalloc.Linked {
		t.Skip("needs -tags nalloc_jemalloc_linked")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	checkNeeded(t, exe)
	if v := os.Getenv("NALLOC_JEMALLOC_REEXEC"); v != "" {
		t.Errorf("the linked test binary was re-executed (NALLOC_JEMALLOC_REEXEC=%s)", v)
	}
	if _, err := jemalloc.Open(); err != nil {
		t.Fatal(err)
	}
}
