// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/cgroup"
	"github.com/nalloc/nalloc/internal/cgroup/cgrouptest"
)

func TestGCPacerContainerLimitBadFraction(t *testing.T) {
	for _, f := range []float64{0, -0.5, 1.01, math.NaN(), math.Inf(1)} {
		p, err := nalloc.StartGCPacer(nalloc.GCPacerContainerLimit(f))
		if err == nil {
			p.Stop()
		}
		if !errors.Is(err, nalloc.ErrGCPacerOption) || strings.Contains(err.Error(), "\n") {
			t.Errorf("GCPacerContainerLimit(%v): %v; want one line wrapping ErrGCPacerOption", f, err)
		}
	}
}

// cgroupFixture lays out a process in a v1 memory group with the given
// limit under a temporary root, for GCPacerCgroupRoot.
func cgroupFixture(t *testing.T, limit string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range map[string]string{
		"proc/self/cgroup":                               "4:memory:/svc\n0::/\n",
		"proc/self/mountinfo":                            "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n",
		"sys/fs/cgroup/memory/svc/memory.limit_in_bytes": limit,
	} {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestGCPacerContainerLimit: with no limit set by the program, the
// cgroup's limit times the fraction is the limit on Go plus off-heap;
// one the program sets wins, and Stop leaves the program without one.
func TestGCPacerContainerLimit(t *testing.T) {
	f := &fakeOffHeap{stats: nalloc.Stats{Mapped: 128 * MiB}}
	root := cgroupFixture(t, "1073741824\n")
	withSettings(t, 100, math.MaxInt64, func() {
		p, err := nalloc.NewIdlePacer(nalloc.GCPacerAllocators(f), nalloc.GCPacerContainerLimit(0.5), nalloc.GCPacerCgroupRoot(root))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Restore()
		if _, l := gcSettings(); l != 512*MiB-128*MiB {
			t.Errorf("0.5 of a 1 GiB cgroup with 128 MiB off-heap: limit %d MiB, want 384 MiB", l/MiB)
		}
		ms := p.AppendMetrics(nil)
		if c, u := metricValue(ms, "gcpacer_container_limit_bytes"), metricValue(ms, "gcpacer_program_gomemlimit_bytes"); c != 512*MiB || u != math.MaxInt64 {
			t.Errorf("gcpacer_container_limit_bytes %d, gcpacer_program_gomemlimit_bytes %d; want %d and none", c, u, 512*MiB)
		}
		debug.SetMemoryLimit(2 << 30)
		p.Update()
		if _, l := gcSettings(); l != 2<<30-128*MiB {
			t.Errorf("after the program set 2 GiB: limit %d MiB, want 2048-128", l/MiB)
		}
		debug.SetMemoryLimit(math.MaxInt64)
		p.Update()
		if _, l := gcSettings(); l != 512*MiB-128*MiB {
			t.Errorf("after the program removed its limit: limit %d MiB, want the container's 384 MiB again", l/MiB)
		}
		p.Restore()
		if _, l := gcSettings(); l != math.MaxInt64 {
			t.Errorf("after Stop: limit %d, want none, the program's", l)
		}
	})
	// No limit in the cgroup: none.
	withSettings(t, 100, math.MaxInt64, func() {
		p, err := nalloc.NewIdlePacer(nalloc.GCPacerAllocators(f), nalloc.GCPacerContainerLimit(0.9),
			nalloc.GCPacerCgroupRoot(cgroupFixture(t, "9223372036854771712\n")))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Restore()
		if _, l := gcSettings(); l != math.MaxInt64 {
			t.Errorf("a cgroup without a limit: limit %d, want none", l)
		}
	})
}

func TestGCPacerContainerLimitUnreadable(t *testing.T) {
	g0, l0 := gcSettings()
	p, err := nalloc.StartGCPacer(nalloc.GCPacerContainerLimit(0.9), nalloc.GCPacerCgroupRoot(cgroupFixture(t, "unlimited\n")))
	if err == nil {
		p.Stop()
	}
	if !errors.Is(err, nalloc.ErrContainerLimit) || strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "nalloc: ") {
		t.Errorf("StartGCPacer on an unreadable cgroup: %v; want one line wrapping ErrContainerLimit", err)
	}
	if g, l := gcSettings(); g != g0 || l != l0 {
		t.Errorf("a failed StartGCPacer changed the settings: GOGC %d, limit %d; were %d, %d", g, l, g0, l0)
	}
}

// inCgroup returns a command that runs this test binary's test named run
// inside g (the shell moves itself in, then execs the binary), with env
// added and NALLOC_PACER_CHILD set to run. The child is killed after 2
// minutes (the shell's pid is the binary's after exec), so that a hung
// child fails the test, which then removes the group, instead of
// outliving a test binary killed by -timeout.
func inCgroup(t *testing.T, g *cgroup.Group, run string, env ...string) *exec.Cmd {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := cgrouptest.Command(ctx, g, os.Args[0], "-test.run=^"+run+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), append(env, "NALLOC_PACER_CHILD="+run)...)
	return cmd
}

// TestGCPacerContainerLimitInACgroup is GCPacerContainerLimit in a real
// memory cgroup: a child with 32 MiB written in glibc under a 256 MiB
// limit starts the pacer with 0.9, and the runtime's limit is 0.9 ×
// 256 MiB less the off-heap count.
func TestGCPacerContainerLimitInACgroup(t *testing.T) {
	const limit = 256 * MiB
	fraction := 0.9
	if os.Getenv("NALLOC_PACER_CHILD") == t.Name() {
		free := allocateWritten(t, openGlibc(t), 32*MiB)
		defer free()
		p := startGCPacer(t, nalloc.GCPacerContainerLimit(fraction))
		defer p.Stop()
		// The count holds the 32 MiB and whatever else is not Go's (the
		// race detector's shadow memory, under -race).
		_, l := gcSettings()
		x := p.OffHeap()
		if want := int64(fraction*limit) - int64(x); l != want || x < 30*MiB || x > limit/2 {
			t.Errorf("/gc/gomemlimit:bytes %d with %d off-heap counted, want 0.9 × %d less it, %d", l, x, limit, want)
		}
		t.Logf("limit %d = 0.9 × %d - off-heap %d", l, limit, x)
		return
	}
	g := cgrouptest.NewGroup(t, limit)
	cmd := inCgroup(t, g, t.Name(), "GOMEMLIMIT=off")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("child in %s: %v\n%s", g.Dir, err, out)
	}
	t.Logf("%s", out)
}

// purgingOffHeap is a fakeOffHeap whose Purge gives back all but what
// the test says is in use, and counts its calls.
type purgingOffHeap struct {
	fakeOffHeap
	inUse  uint64
	purges int
}

func (f *purgingOffHeap) Purge() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.purges++
	f.stats.Mapped = f.inUse
	return nil
}

// TestGCPacerPurgesNearTheLimit: near the limit the pacer has the
// allocators give back their free memory before it lowers the Go
// runtime's limit, at most once per gap, and backs off when a round gives
// back little.
func TestGCPacerPurgesNearTheLimit(t *testing.T) {
	f := &purgingOffHeap{fakeOffHeap: fakeOffHeap{stats: nalloc.Stats{Mapped: 100 * MiB}}, inUse: 100 * MiB}
	clock := newFakeClock()
	withSettings(t, 100, 1<<30, func() {
		p, err := nalloc.NewIdlePacer(nalloc.GCPacerAllocators(f), nalloc.GCPacerClock(clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Restore()
		metric := func(name string) int64 { return metricValue(p.AppendMetrics(nil), name) }
		if f.purges != 0 {
			t.Fatalf("%d Purge calls far from the limit, want none", f.purges)
		}
		// 950 MiB held, 100 MiB of it in use: one round, and the limit
		// the count after it gives.
		f.set(nalloc.Stats{Mapped: 950 * MiB})
		p.Update()
		if _, l := gcSettings(); f.purges != 1 || l != 1<<30-100*MiB {
			t.Errorf("near the limit with 850 MiB free: %d Purge calls, limit %d MiB; want 1 and 924 MiB", f.purges, l/MiB)
		}
		if metric("gcpacer_purges_total") != 1 || metric("gcpacer_purged_bytes_total") != 850*MiB {
			t.Errorf("metrics after one round: %d rounds, %d bytes; want 1, %d", metric("gcpacer_purges_total"),
				metric("gcpacer_purged_bytes_total"), 850*MiB)
		}
		// Free memory again at once: no round within the gap, so the
		// pacer lowers the limit.
		f.set(nalloc.Stats{Mapped: 950 * MiB})
		p.Update()
		if _, l := gcSettings(); f.purges != 1 || l != 1<<30-950*MiB {
			t.Errorf("within the gap: %d Purge calls, limit %d MiB; want 1 and 74 MiB", f.purges, l/MiB)
		}
		clock.advance(nalloc.PurgeGap)
		p.Update()
		if f.purges != 2 {
			t.Errorf("after the gap: %d Purge calls, want 2", f.purges)
		}
		// Rounds that give back nothing: the gap doubles each time.
		f.inUse = 950 * MiB
		gap := nalloc.PurgeGap
		clock.advance(gap)
		for round := 3; round <= 6; round++ {
			f.set(nalloc.Stats{Mapped: 950 * MiB})
			p.Update()
			if f.purges != round {
				t.Fatalf("round %d after %v: %d Purge calls", round, gap, f.purges)
			}
			gap *= 2
			clock.advance(gap - time.Millisecond)
			p.Update()
			if f.purges != round {
				t.Fatalf("%v after round %d, which gave nothing back: %d Purge calls, want none before %v", gap-time.Millisecond, round, f.purges, gap)
			}
			clock.advance(time.Millisecond)
		}
	})
}
