// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package cgrouptest makes real cgroup v1 memory groups for tests and runs
// commands inside them, for the tests of internal/cgroup and of the GC
// pacer's container limit. It is imported by _test.go files only. A group
// needs root and a writable v1 memory hierarchy; without them the test is
// skipped.
package cgrouptest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/nalloc/nalloc/internal/cgroup"
)

// NewGroup makes a v1 memory group with the given limit in bytes for the
// test, named after the process and the test, and removes it when the
// test ends, even when it fails. Without root or a v1 memory hierarchy it
// skips the test with the reason, as it does when the hierarchy is
// mounted read-only (make test run as root in a container).
func NewGroup(t testing.TB, limit uint64) *cgroup.Group {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("making a memory cgroup needs root")
	}
	if _, err := cgroup.V1MemoryMount(); err != nil {
		t.Skipf("no cgroup v1 memory hierarchy: %v", err)
	}
	name := fmt.Sprintf("nalloc-test-%d-%s", os.Getpid(), strings.NewReplacer("/", "-", "=", "-").Replace(t.Name()))
	g, err := cgroup.NewV1Group(name, limit)
	if errors.Is(err, syscall.EROFS) {
		// A container's /sys/fs/cgroup, as Docker and buildah mount it
		// by default: root, a hierarchy, and no way to make a group.
		t.Skipf("the v1 memory hierarchy is read-only here (a container's usual mount): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := g.Remove(); err != nil {
			t.Error(err)
		}
	})
	return g
}

// Command returns a command that runs name with args inside g: a shell
// moves itself into the group, then execs name, so that the program is
// charged to g from its start and has the shell's pid (the one that ctx
// kills).
func Command(ctx context.Context, g *cgroup.Group, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", `echo $$ > "$1"/cgroup.procs && shift && exec "$@"`,
		"sh", g.Dir, name}, args...)...)
}
