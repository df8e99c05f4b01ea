// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package probe

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bench/internal/benchtest" // registers test-tuner, for -set and -trim
	"github.com/nalloc/nalloc/internal/platform"
)

func TestProbeBadFlags(t *testing.T) {
	tests := []struct {
		args string
		want string
	}{
		{"-allocator nope", `unknown allocator "nope"; use one of:`},
		{"-set M_MMAP_THRESHOLD", "is not name=value"},
		{"-env MALLOC_CONF", "is not name=value"},
		{"-allocator bump -set chunk=1MiB", "bump (*bump.Arena) has no settings to tune (it is not a nalloc.Tuner)"},
		{"-allocator bump -trim", "bump (*bump.Arena) cannot give memory back on demand (it is not a nalloc.Purger)"},
		{"-sizes 12XB", `unknown unit "XB"`},
		{"-sizes 64KiB,,1MiB", "not a number followed by a unit"},
		{"-sizes 0", "at least 1 byte"},
		{"-count 0", "at least one block"},
		{"-order sideways", "use fifo, lifo, random"},
		{"-bogus", "flag provided but not defined"},
		{"-count 1099511627776 -sizes 1MiB", "more than this machine's memory"},
		{"-timeline probe.txt", "drawn as .png or .svg"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(strings.Fields(tt.args), &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("probe %s: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr.String(), tt.want)
		}
		if stdout.Len() != 0 {
			t.Errorf("probe %s printed to stdout: %q", tt.args, stdout.String())
		}
	}
}

// TestProbeEveryAllocator runs the probe on every registered allocator
// that loads here, with -trim where it can give memory back (a
// nalloc.Purger, found through the interface as the probe finds it).
func TestProbeEveryAllocator(t *testing.T) {
	for _, name := range nalloc.Names() {
		a, err := nalloc.Open(name)
		if err != nil {
			continue
		}
		if _, ok := nalloc.As[interface{ Reset() }](a); ok {
			continue // an arena reclaims nothing on Deallocate
		}
		t.Run(name, func(t *testing.T) {
			args := []string{"-allocator", name, "-sizes", "64KiB,1MiB", "-count", "4"}
			want := []string{"round 1: 4 blocks of 64.0 KiB", "round 2: 4 blocks of 1.00 MiB",
				"allocated", "touched", "freed", "Δbreak", "ΔRSS"}
			if _, ok := a.(nalloc.Purger); ok {
				args = append(args, "-trim")
				want = append(want, "trimmed")
			}
			var stdout, stderr bytes.Buffer
			if code := run(args, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d\nstderr: %s\nstdout: %s", code, stderr.String(), stdout.String())
			}
			out := stdout.String()
			for _, w := range want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if n, ok := a.(nalloc.Native); ok && !strings.Contains(out, n.Library()) {
				t.Errorf("the header does not name the library %s:\n%s", n.Library(), out)
			}
		})
	}
}

// TestProbeSetAndTrim: -set goes to the allocator's Tune, which parses
// the value and refuses what it does not know; -trim calls its Purge once
// per round.
func TestProbeSetAndTrim(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"-allocator", "test-tuner", "-set", "threshold=4MiB", "-trim", "-sizes", "1KiB,2KiB", "-count", "2"}
	tuner := benchtest.TheTuner
	before := tuner.Purges()
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if tuner.Threshold() != 4<<20 || tuner.Purges() != before+2 {
		t.Errorf("threshold %d, %d purges; want 4 MiB and 2", tuner.Threshold(), tuner.Purges()-before)
	}
	if !strings.Contains(stdout.String(), "set threshold=4MiB") {
		t.Errorf("the output does not say what was set:\n%s", stdout.String())
	}
	stdout.Reset()
	stderr.Reset()
	code := run([]string{"-allocator", "test-tuner", "-set", "bogus=1"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), `-set bogus=1: test-tuner: unknown setting "bogus" (known: threshold)`) {
		t.Errorf("an unknown setting: exit %d, stderr %q", code, stderr.String())
	}
}

// TestProbeEnv: -env starts the probe again with the variable set, once.
func TestProbeEnv(t *testing.T) {
	env, ok := probeEnviron([]string{"A=1", "MALLOC_CONF=old"}, []setting{{"MALLOC_CONF", "narenas:1"}})
	if ok || !slices.Equal(env, []string{"A=1", "MALLOC_CONF=narenas:1"}) {
		t.Errorf("probeEnviron: %q, %v", env, ok)
	}
	if _, ok := probeEnviron(env, []setting{{"MALLOC_CONF", "narenas:1"}}); !ok {
		t.Errorf("probeEnviron does not see that the variable is set: it would re-execute forever")
	}
	out := runCommand(t, "-allocator jemalloc -env MALLOC_CONF=narenas:1 -sizes 1KiB -count 4")
	if !strings.Contains(out, "env MALLOC_CONF=narenas:1") || !strings.Contains(out, "round 1") {
		t.Errorf("-env:\n%s", out)
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
	out := runCommand(t, "-sizes 1MiB,1MiB -count 8")
	rounds := strings.Split(out, "\nround ")
	if len(rounds) != 3 ||
		!strings.Contains(rounds[1], "landed in 8 in anonymous mappings") ||
		!strings.Contains(rounds[2], "landed in 8 in the brk heap") {
		t.Errorf("default glibc, two rounds of 1 MiB: want mmap, then the brk heap (the threshold adapts):\n%s", out)
	}
	if g, _ := nalloc.Open("glibc"); g != nil {
		if _, ok := g.(nalloc.Tuner); !ok {
			t.Logf("glibc is not a nalloc.Tuner in this build: -set M_MMAP_THRESHOLD is not checked")
		} else {
			out = runCommand(t, "-sizes 1MiB -count 8 -set M_MMAP_THRESHOLD=4MiB")
			if !strings.Contains(out, "set M_MMAP_THRESHOLD=4MiB") || !strings.Contains(out, "landed in 8 in the brk heap") {
				t.Errorf("with M_MMAP_THRESHOLD=4MiB, 1 MiB blocks should come from the brk heap:\n%s", out)
			}
		}
	}
	out = runCommand(t, "-sizes 1KiB -count 4096")
	if !strings.Contains(out, "landed in 4096 in the brk heap") {
		t.Errorf("1 KiB blocks should come from the brk heap:\n%s", out)
	}
}

func TestProbeTimeline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "timeline.png")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-sizes", "256KiB", "-count", "64", "-timeline", path}, &stdout, &stderr); code != 0 {
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

// TestProbeSaysEmulated checks that the probe's output carries the
// emulation warning exactly when this process is emulated (make
// test-arm64).
func TestProbeSaysEmulated(t *testing.T) {
	emulated := platform.Emulation() != ""
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-allocator", "go", "-sizes", "64KiB", "-count", "2"}, &stdout, &stderr); code != 0 {
		t.Fatalf("probe: exit %d\n%s", code, stderr.String())
	}
	if got := strings.Contains(stdout.String(), "WARNING: the CPU is emulated"); got != emulated {
		t.Errorf("emulated %v, but the probe's output says so: %v:\n%s", emulated, got, stdout.String())
	}
}
