// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestProbeBadFlags(t *testing.T) {
	tests := []struct {
		args string
		want string
	}{
		{"-allocator nope", `unknown allocator "nope"; use one of:`},
		{"-mallopt M_BOGUS=1", "unknown mallopt parameter"},
		{"-mallopt M_MMAP_THRESHOLD", "is not name=value"},
		{"-mallopt M_MMAP_THRESHOLD=lots", `unknown unit "lots"`},
		{"-sizes 12XB", `unknown unit "XB"`},
		{"-sizes 64KiB,,1MiB", "not a number followed by a unit"},
		{"-sizes 0", "at least 1 byte"},
		{"-count 0", "at least one block"},
		{"-order sideways", "use fifo, lifo, random"},
		{"-allocator jemalloc -mallopt M_MMAP_THRESHOLD=1MiB", "add -allocator glibc"},
		{"-mallctl arenas.dirty_decay_ms=0", "add -allocator jemalloc"},
		{"-allocator mimalloc -mi-option bogus=1", "unknown"},
		{"-malloc-conf narenas:1", "add -allocator jemalloc"},
		{"-bogus", "flag provided but not defined"},
		{"-count 1099511627776 -sizes 1MiB", "more than this machine's memory"},
		{"-timeline probe.txt", "drawn as .png or .svg"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"probe"}, strings.Fields(tt.args)...), &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("probe %s: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr.String(), tt.want)
		}
		if stdout.Len() != 0 {
			t.Errorf("probe %s printed to stdout: %q", tt.args, stdout.String())
		}
	}
}

// TestProbeEveryAllocator runs the probe, trim included, on every
// allocator of the module that loads here.
func TestProbeEveryAllocator(t *testing.T) {
	for _, name := range knownAllocators {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run([]string{"probe", "-allocator", name, "-sizes", "64KiB,1MiB", "-count", "4", "-trim"}, &stdout, &stderr)
			if code != 0 {
				t.Fatalf("exit %d\nstderr: %s\nstdout: %s", code, stderr.String(), stdout.String())
			}
			out := stdout.String()
			for _, want := range []string{"round 1: 4 blocks of 64.0 KiB", "round 2: 4 blocks of 1.00 MiB",
				"allocated", "touched", "freed", "trimmed (", "Δbreak", "ΔRSS"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// runCommand runs the command in a fresh process of this test binary, on
// its main thread, as main would (see TestMain).
func runCommand(t *testing.T, args string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), runArgsEnv+"="+args)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bench %s: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestProbeShowsGlibcMechanisms checks that the probe shows what the
// README says it shows, each in a fresh process: 1 MiB blocks are mmapped
// (and leave the break alone); with M_MMAP_THRESHOLD raised to 4 MiB they
// come from the brk heap and move the break; after such blocks are freed,
// glibc raises its threshold, so the next round of the same size comes
// from the brk heap too.
func TestProbeShowsGlibcMechanisms(t *testing.T) {
	out := runCommand(t, "probe -sizes 1MiB,1MiB -count 8")
	rounds := strings.Split(out, "\nround ")
	if len(rounds) != 3 ||
		!strings.Contains(rounds[1], "landed in 8 in anonymous mappings") ||
		!strings.Contains(rounds[2], "landed in 8 in the brk heap") {
		t.Errorf("default glibc, two rounds of 1 MiB: want mmap, then the brk heap (the threshold adapts):\n%s", out)
	}
	out = runCommand(t, "probe -sizes 1MiB -count 8 -mallopt M_MMAP_THRESHOLD=4MiB")
	if !strings.Contains(out, "set M_MMAP_THRESHOLD=4MiB") || !strings.Contains(out, "landed in 8 in the brk heap") {
		t.Errorf("with M_MMAP_THRESHOLD=4MiB, 1 MiB blocks should come from the brk heap:\n%s", out)
	}
	out = runCommand(t, "probe -sizes 1KiB -count 4096")
	if !strings.Contains(out, "landed in 4096 in the brk heap") {
		t.Errorf("1 KiB blocks should come from the brk heap:\n%s", out)
	}
}

func TestProbeTimeline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "timeline.png")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"probe", "-sizes", "256KiB", "-count", "64", "-timeline", path}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	png, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("timeline %s: %v, %d bytes", path, err, len(png))
	}
	if !strings.Contains(stdout.String(), "timeline:") {
		t.Errorf("output does not mention the timeline:\n%s", stdout.String())
	}
}
