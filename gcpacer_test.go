// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/nalloc/nalloc"
)

const (
	KiB = 1 << 10
	MiB = 1 << 20
)

// runtimeGoal is the runtime's heap goal for GOGC g with nothing else in
// play: max(live + (live+roots)·g/100, 4 MiB·g/100) (gcControllerState.commit).
func runtimeGoal(g int, live, roots uint64) float64 {
	gf := float64(g) / 100
	return max(float64(live)+float64(live+roots)*gf, nalloc.HeapMinimum*gf)
}

func TestPacedGOGCPutsTheGoalWhereOffHeapCountsAsLive(t *testing.T) {
	for _, g := range []int{1, 50, 100, 400} {
		for _, live := range []uint64{0, 100 * KiB, 3 * MiB, 64 * MiB, 8 << 30} {
			for _, roots := range []uint64{0, 200 * KiB, 16 * MiB} {
				for _, x := range []uint64{1, 1 * MiB, 256 * MiB, 1 << 30, 1 << 40} {
					if live+roots == 0 && x < MiB {
						continue // a goal of bytes: below GOGC's resolution
					}
					paced := nalloc.PacedGOGC(g, live, roots, x)
					// The Go heap's share of the goal with x counted as
					// live, or the goal without x if that is higher: the
					// pacer never collects more often than the runtime
					// would without it.
					want := max(runtimeGoal(g, live+x, roots)-float64(x), runtimeGoal(g, live, roots))
					got := runtimeGoal(paced, live, roots)
					if paced < g {
						t.Errorf("PacedGOGC(%d, live %d, roots %d, off-heap %d) = %d, below the program's GOGC", g, live, roots, x, paced)
					}
					// GOGC is a whole percent: within one percent of
					// the smaller term's step, or 1/1000.
					step := max(float64(live+roots), nalloc.HeapMinimum) / 100
					if math.Abs(got-want) > max(step, want/1000) && paced != math.MaxInt32 {
						t.Errorf("GOGC %d, live %d, roots %d, off-heap %d: paced GOGC %d gives a goal of %.0f, want %.0f",
							g, live, roots, x, paced, got, want)
					}
				}
			}
		}
	}
}

func TestPacedGOGCLeavesWhatItCannotScale(t *testing.T) {
	for _, tc := range []struct {
		g       int
		offHeap uint64
		want    int
	}{
		{-1, 1 << 30, -1}, // off stays off
		{0, 1 << 30, 0},   // collecting without pause stays so
		{100, 0, 100},     // nothing off-heap
		{100, 1 << 50, math.MaxInt32},
	} {
		if got := nalloc.PacedGOGC(tc.g, 1*MiB, 0, tc.offHeap); got != tc.want {
			t.Errorf("PacedGOGC(%d, off-heap %d) = %d, want %d", tc.g, tc.offHeap, got, tc.want)
		}
	}
}

func TestPacedLimit(t *testing.T) {
	const GiB = 1 << 30
	for _, tc := range []struct {
		limit, floor int64
		offHeap      uint64
		want         int64
	}{
		{math.MaxInt64, 64 * MiB, 10 * GiB, math.MaxInt64}, // no limit: none set
		{4 * GiB, 64 * MiB, 0, 4 * GiB},
		{4 * GiB, 64 * MiB, 1 * GiB, 3 * GiB},
		{4 * GiB, 64 * MiB, 4*GiB - 64*MiB, 64 * MiB}, // the floor
		{4 * GiB, 64 * MiB, 8 * GiB, 64 * MiB},
		{32 * MiB, 64 * MiB, 16 * MiB, 32 * MiB}, // a floor above the limit is the limit
		{4 * GiB, 0, 5 * GiB, 0},
	} {
		if got := nalloc.PacedLimit(tc.limit, tc.offHeap, tc.floor); got != tc.want {
			t.Errorf("PacedLimit(%d, %d, floor %d) = %d, want %d", tc.limit, tc.offHeap, tc.floor, got, tc.want)
		}
	}
}

// fakeOffHeap is an allocator that allocates nothing and reports
// whatever Stats the test sets, so that the pacer's count is exact.
type fakeOffHeap struct {
	mu    sync.Mutex
	stats nalloc.Stats
	err   error
}

func (f *fakeOffHeap) Allocate(nalloc.Layout) (unsafe.Pointer, error) {
	return nil, errors.New("fakeOffHeap allocates nothing")
}
func (f *fakeOffHeap) Deallocate(unsafe.Pointer, nalloc.Layout) {}
func (f *fakeOffHeap) Grow(unsafe.Pointer, nalloc.Layout, nalloc.Layout) (unsafe.Pointer, error) {
	return nil, errors.New("fakeOffHeap allocates nothing")
}
func (f *fakeOffHeap) Shrink(unsafe.Pointer, nalloc.Layout, nalloc.Layout) (unsafe.Pointer, error) {
	return nil, errors.New("fakeOffHeap allocates nothing")
}

func (f *fakeOffHeap) Stats() (nalloc.Stats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats, f.err
}

func (f *fakeOffHeap) set(s nalloc.Stats) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stats = s
}

// fakeClock is a time that moves only when the test says.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1e9, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// gcSettings reads GOGC and the memory limit without changing them.
func gcSettings() (gogc int, limit int64) {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}}
	metrics.Read(s)
	return int(int64(s[0].Value.Uint64())), int64(s[1].Value.Uint64())
}

func heapGoal() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// withSettings runs f with GOGC and the memory limit set as given, and
// puts back what was there.
func withSettings(t *testing.T, gogc int, limit int64, f func()) {
	t.Helper()
	oldG := debug.SetGCPercent(gogc)
	oldL := debug.SetMemoryLimit(limit)
	defer debug.SetGCPercent(oldG)
	defer debug.SetMemoryLimit(oldL)
	f()
}

func TestGCPacerHeldBytes(t *testing.T) {
	for _, tc := range []struct {
		s    nalloc.Stats
		want uint64
	}{
		{nalloc.Stats{Allocated: 1, Active: 2, Resident: 3, Mapped: 4}, 3}, // jemalloc
		{nalloc.Stats{Allocated: 1, Active: 1, Mapped: 4}, 4},              // glibc
		{nalloc.Stats{Mapped: 4}, 4},                                       // mimalloc
		{nalloc.Stats{Allocated: 1, Active: 1}, 1},                         // Counting
	} {
		if got := nalloc.HeldBytes(tc.s); got != tc.want {
			t.Errorf("HeldBytes(%+v) = %d, want %d", tc.s, got, tc.want)
		}
	}
}

// TestGCPacerGOGCCountsOffHeap checks the heap goal the runtime reports
// while the pacer runs: where GOGC puts it if the off-heap bytes were
// live heap.
// The pacer counts through wrappers: the wrapped allocator's Stats, or a
// Counting's live bytes over an allocator without Stats (a Verbose over
// jemalloc once paced on 0 bytes).
func TestGCPacerCountsThroughWrappers(t *testing.T) {
	f := &fakeOffHeap{stats: nalloc.Stats{Mapped: 64 * MiB}}
	c := nalloc.NewCounting(bare{nalloc.NewGoHeap()})
	l := nalloc.Layout{Size: 3 * MiB, Align: 8}
	p, err := c.Allocate(l)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Deallocate(p, l)
	withSettings(t, 100, math.MaxInt64, func() {
		pacer, err := nalloc.NewIdlePacer(nalloc.GCPacerAllocators(nalloc.NewVerbose(f, io.Discard), nalloc.NewVerbose(c, io.Discard)))
		if err != nil {
			t.Fatal(err)
		}
		defer pacer.Restore()
		if got, want := pacer.OffHeap(), uint64(64*MiB+3*MiB); got != want {
			t.Fatalf("OffHeap() = %d, want the wrapped allocator's Mapped plus the Counting's live bytes, %d", got, want)
		}
	})
}

func TestGCPacerGOGCCountsOffHeap(t *testing.T) {
	f := &fakeOffHeap{stats: nalloc.Stats{Mapped: 512 * MiB}}
	withSettings(t, 100, math.MaxInt64, func() {
		runtime.GC()
		before := heapGoal()
		p, err := nalloc.NewIdlePacer(nalloc.GCPacerAllocators(f))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Restore()
		if got := p.OffHeap(); got != 512*MiB {
			t.Fatalf("OffHeap() = %d, want the allocator's Mapped, %d", got, 512*MiB)
		}
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"}}
		metrics.Read(s)
		live, roots := s[0].Value.Uint64(), s[1].Value.Uint64()+s[2].Value.Uint64()
		want := runtimeGoal(100, live+512*MiB, roots) - 512*MiB
		if got := float64(heapGoal()); math.Abs(got-want) > want/100 {
			t.Errorf("heap goal %.0f with 512 MiB off-heap, want %.0f (it was %d without)", got, want, before)
		}
		if g, _ := gcSettings(); g <= 100 {
			t.Errorf("GOGC %d while pacing 512 MiB off-heap, want above 100", g)
		}
		if _, l := gcSettings(); l != math.MaxInt64 {
			t.Errorf("memory limit %d with none set, want none (math.MaxInt64)", l)
		}
		p.Restore()
		if g, _ := gcSettings(); g != 100 {
			t.Errorf("GOGC %d after Stop, want 100", g)
		}
	})
}

func TestGCPacerLimitBoundsTheTotal(t *testing.T) {
	f := &fakeOffHeap{stats: nalloc.Stats{Mapped: 256 * MiB}}
	clock := newFakeClock()
	withSettings(t, 100, 1<<30, func() {
		p, err := nalloc.NewIdlePacer(nalloc.GCPacerAllocators(f), nalloc.GCPacerClock(clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Restore()
		step := func(what string, offHeap uint64, wait time.Duration, want int64) {
			t.Helper()
			f.set(nalloc.Stats{Mapped: offHeap})
			clock.advance(wait)
			p.Update()
			if _, l := gcSettings(); l != want {
				t.Errorf("%s: memory limit %d MiB, want %d MiB", what, l/MiB, want/MiB)
			}
		}
		step("256 MiB off-heap under a 1 GiB limit", 256*MiB, 0, 768*MiB)
		// Falls at once, by 1 MiB or more; less is noise.
		step("off-heap grew by 512 KiB", 256*MiB+512*KiB, 0, 768*MiB)
		step("off-heap grew by 1 MiB", 257*MiB, 0, 767*MiB)
		// A lower count is believed once it has lasted HoldFalls.
		step("off-heap fell to 192 MiB", 192*MiB, 0, 767*MiB)
		step("192 MiB for half the hold", 192*MiB, nalloc.HoldFalls/2, 767*MiB)
		step("192 MiB for the hold", 192*MiB, nalloc.HoldFalls, 832*MiB)
		// Then rises only by more than max(1 MiB, 1/64 of off-heap): 3
		// MiB from 192 MiB off-heap.
		step("off-heap shrank by 2 MiB", 190*MiB, 2*nalloc.HoldFalls, 832*MiB)
		step("off-heap shrank by 4 MiB", 188*MiB, 2*nalloc.HoldFalls, 836*MiB)
		// Never below the floor.
		step("off-heap above the limit", 2<<30, 0, 64*MiB)
		p.Restore()
		if _, l := gcSettings(); l != 1<<30 {
			t.Errorf("after Stop: memory limit %d MiB, want 1024 MiB", l/MiB)
		}
	})
}

func TestGCPacerRestoresTheProgramsSettings(t *testing.T) {
	f := &fakeOffHeap{stats: nalloc.Stats{Mapped: 256 * MiB}}
	for _, tc := range []struct {
		name string
		// change runs while the pacer runs and returns the settings
		// Stop must put back.
		change func(p nalloc.IdlePacer) (int, int64)
	}{
		{"unchanged", func(nalloc.IdlePacer) (int, int64) { return 77, 3 << 30 }},
		{"changed-then-stop", func(nalloc.IdlePacer) (int, int64) {
			debug.SetGCPercent(55)
			debug.SetMemoryLimit(2 << 30)
			return 55, 2 << 30
		}},
		{"changed-then-paced", func(p nalloc.IdlePacer) (int, int64) {
			debug.SetGCPercent(55)
			debug.SetMemoryLimit(2 << 30)
			p.Update()
			if g, l := gcSettings(); g <= 55 || l != 2<<30-256*MiB {
				t.Errorf("after the program set GOGC 55 and a 2 GiB limit: GOGC %d, limit %d MiB; want the pacer's, from those", g, l/MiB)
			}
			return 55, 2 << 30
		}},
		{"gogc-turned-off", func(p nalloc.IdlePacer) (int, int64) {
			debug.SetGCPercent(-1)
			p.Update()
			if g, _ := gcSettings(); g != -1 {
				t.Errorf("GOGC %d after the program turned it off, want off", g)
			}
			return -1, 3 << 30
		}},
		{"limit-removed", func(p nalloc.IdlePacer) (int, int64) {
			debug.SetMemoryLimit(math.MaxInt64)
			p.Update()
			if _, l := gcSettings(); l != math.MaxInt64 {
				t.Errorf("limit %d after the program removed it, want none", l)
			}
			return 77, math.MaxInt64
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withSettings(t, 77, 3<<30, func() {
				p, err := nalloc.NewIdlePacer(nalloc.GCPacerAllocators(f))
				if err != nil {
					t.Fatal(err)
				}
				if g, l := gcSettings(); g == 77 || l != 3<<30-256*MiB {
					t.Errorf("pacing 256 MiB: GOGC %d, limit %d MiB; want GOGC above 77 and a limit of 3 GiB - 256 MiB", g, l/MiB)
				}
				wantG, wantL := tc.change(p)
				p.Restore()
				if g, l := gcSettings(); g != wantG || l != wantL {
					t.Errorf("after Stop: GOGC %d, limit %d; want %d, %d", g, l, wantG, wantL)
				}
				// The metrics say what Stop left.
				ms := p.AppendMetrics(nil)
				for name, want := range map[string]int64{
					"gcpacer_running":      0,
					"gcpacer_gogc_percent": int64(wantG), "gcpacer_program_gogc_percent": int64(wantG),
					"gcpacer_gomemlimit_bytes": wantL, "gcpacer_program_gomemlimit_bytes": wantL,
					"gcpacer_off_heap_bytes": 256 * MiB,
				} {
					if got := metricValue(ms, name); got != want {
						t.Errorf("after Stop: %s = %d, want %d", name, got, want)
					}
				}
			})
		})
	}
}

func TestStartGCPacerOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  nalloc.GCPacerOption
		want string
	}{
		{"no-allocators", nalloc.GCPacerAllocators(), "with no allocator"},
		{"nil", nalloc.GCPacerAllocators(nil), "allocator 0 is nil"},
		{"go-heap", nalloc.GCPacerAllocators(nalloc.NewGoHeap()), "is the Go heap"},
		{"no-stats", nalloc.GCPacerAllocators(noStats{}), "has neither Stats nor a Counting"},
		{"wrapped-no-stats", nalloc.GCPacerAllocators(nalloc.NewVerbose(noStats{}, io.Discard)), "has neither Stats nor a Counting"},
		{"wrapped-go-heap", nalloc.GCPacerAllocators(nalloc.NewCounting(nalloc.NewGoHeap())), "is the Go heap"},
		{"stats-fail", nalloc.GCPacerAllocators(&fakeOffHeap{err: errors.New("no statistics here")}), "no statistics here"},
		{"interval", nalloc.GCPacerInterval(0), "must be positive"},
		{"floor", nalloc.GCPacerMinLimit(-1), "must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g0, l0 := gcSettings()
			p, err := nalloc.StartGCPacer(tc.opt)
			if err == nil {
				p.Stop()
				t.Fatal("StartGCPacer succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "nalloc: ") {
				t.Errorf("StartGCPacer: %v; want an error saying %q", err, tc.want)
			}
			if g, l := gcSettings(); g != g0 || l != l0 {
				t.Errorf("a failed StartGCPacer changed the settings: GOGC %d, limit %d; were %d, %d", g, l, g0, l0)
			}
		})
	}
}

// noStats is an allocator without Stats.
type noStats struct{ nalloc.Allocator }

func TestStartGCPacerTwice(t *testing.T) {
	p := startGCPacer(t)
	if q, err := nalloc.StartGCPacer(); !errors.Is(err, nalloc.ErrGCPacerRunning) {
		if q != nil {
			q.Stop()
		}
		t.Errorf("second StartGCPacer: %v, want ErrGCPacerRunning", err)
	}
	p.Stop()
	p.Stop() // again: nothing
	q, err := nalloc.StartGCPacer()
	if err != nil {
		t.Fatalf("StartGCPacer after Stop: %v", err)
	}
	q.Stop()
}

// TestGCPacerConcurrentStartStop starts and stops pacers from many
// goroutines at once: at most one runs at a time, Stop from any goroutine
// (and several on the same pacer) is safe, and the settings are the
// program's at the end.
func TestGCPacerConcurrentStartStop(t *testing.T) {
	f := &fakeOffHeap{stats: nalloc.Stats{Mapped: 128 * MiB}}
	withSettings(t, 90, 6<<30, func() {
		var running, maxRunning, started atomic.Int32
		var wg sync.WaitGroup
		// Each goroutine tries until it has started 6 pacers: how many
		// tries that takes depends on the scheduler (1 in 10 runs under
		// -race, 400 tries in all started fewer than 50), not on the
		// pacer.
		deadline := time.Now().Add(20 * time.Second)
		for range 8 {
			wg.Go(func() {
				for mine := 0; mine < 6; {
					if time.Now().After(deadline) {
						t.Errorf("a goroutine started %d pacers in 20 s, want 6", mine)
						return
					}
					p, err := nalloc.StartGCPacer(nalloc.GCPacerAllocators(f), nalloc.GCPacerInterval(time.Millisecond))
					if errors.Is(err, nalloc.ErrGCPacerRunning) {
						runtime.Gosched()
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					started.Add(1)
					mine++
					n := running.Add(1)
					for m := maxRunning.Load(); n > m && !maxRunning.CompareAndSwap(m, n); m = maxRunning.Load() {
					}
					if p.OffHeap() != 128*MiB {
						t.Errorf("OffHeap() = %d, want %d", p.OffHeap(), 128*MiB)
					}
					running.Add(-1)
					var stops sync.WaitGroup
					for range 2 {
						stops.Go(p.Stop)
					}
					stops.Wait()
				}
			})
		}
		wg.Wait()
		if started.Load() != 48 {
			t.Errorf("%d pacers started, want 8 × 6", started.Load())
		}
		if m := maxRunning.Load(); m != 1 {
			t.Errorf("%d pacers ran at once, want 1", m)
		}
		if g, l := gcSettings(); g != 90 || l != 6<<30 {
			t.Errorf("after every Stop: GOGC %d, limit %d; want 90, %d", g, l, int64(6<<30))
		}
	})
}

// waitFor polls cond until it holds or a generous deadline passes: the
// pacer's goroutine acts on its own events, and the test waits for the
// event, not for a time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// TestGCPacerSeesGrowthBetweenCycles: with no GC cycle, the background
// check sees off-heap memory grow and lowers the limit.
func TestGCPacerSeesGrowthBetweenCycles(t *testing.T) {
	f := &fakeOffHeap{stats: nalloc.Stats{Mapped: 64 * MiB}}
	withSettings(t, -1, 4<<30, func() { // GOGC off: no cycle runs
		p := startGCPacer(t, nalloc.GCPacerAllocators(f), nalloc.GCPacerInterval(5*time.Millisecond))
		defer p.Stop()
		f.set(nalloc.Stats{Mapped: 3 << 30})
		waitFor(t, "the pacer to count 3 GiB", func() bool { return p.OffHeap() == 3<<30 })
		waitFor(t, "the limit to fall to 1 GiB", func() bool { _, l := gcSettings(); return l == 1<<30 })
	})
}

// TestGCPacerWakesAtEachCycle: with a background check too rare to
// matter, a GC cycle is what makes the pacer count again.
func TestGCPacerWakesAtEachCycle(t *testing.T) {
	f := &fakeOffHeap{stats: nalloc.Stats{Mapped: 64 * MiB}}
	p := startGCPacer(t, nalloc.GCPacerAllocators(f), nalloc.GCPacerInterval(time.Hour))
	defer p.Stop()
	f.set(nalloc.Stats{Mapped: 96 * MiB})
	waitFor(t, "a GC cycle to wake the pacer", func() bool {
		runtime.GC()
		return p.OffHeap() == 96*MiB
	})
	f.set(nalloc.Stats{Mapped: 32 * MiB})
	waitFor(t, "the next GC cycle to wake it again", func() bool {
		runtime.GC()
		return p.OffHeap() == 32*MiB
	})
}

// startGCPacer starts a GCPacer with opts or fails the test.
func startGCPacer(tb testing.TB, opts ...nalloc.GCPacerOption) *nalloc.GCPacer {
	tb.Helper()
	p, err := nalloc.StartGCPacer(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// runPacerChild runs the calling test again in a process of its own, with
// env added: for the tests that need the GC settings a program starts
// with (GOGC, GOMEMLIMIT). It reports whether this is the child.
func runPacerChild(t *testing.T, env ...string) (child bool) {
	t.Helper()
	if os.Getenv("NALLOC_PACER_CHILD") == t.Name() {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v")
	cmd.Env = append(os.Environ(), append(env, "NALLOC_PACER_CHILD="+t.Name())...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child process (%s): %v\n%s", strings.Join(env, " "), err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("child process (%s) did not pass %s:\n%s", strings.Join(env, " "), t.Name(), out)
	}
	return false
}

// TestGCPacerUnderGOGCOffNoLimit: with nothing to scale and no limit to
// share, the pacer counts and changes nothing.
func TestGCPacerUnderGOGCOffNoLimit(t *testing.T) {
	if !runPacerChild(t, "GOGC=off", "GOMEMLIMIT=off") {
		return
	}
	a := openGlibc(t)
	set := allocateWritten(t, a, 64*MiB)
	defer set()
	p := startGCPacer(t)
	if x := p.OffHeap(); x < 60*MiB {
		t.Errorf("OffHeap() = %d MiB with 64 MiB written in glibc", x/MiB)
	}
	if g, l := gcSettings(); g != -1 || l != math.MaxInt64 {
		t.Errorf("GOGC=off, no limit, while pacing: GOGC %d, limit %d; want them untouched", g, l)
	}
	p.Stop()
	if g, l := gcSettings(); g != -1 || l != math.MaxInt64 {
		t.Errorf("after Stop: GOGC %d, limit %d; want off, none", g, l)
	}
}

// allocateWritten allocates n bytes from a in 1 MiB blocks, writes every
// page, and returns the function that frees them.
func allocateWritten(t *testing.T, a nalloc.Allocator, n int) (free func()) {
	t.Helper()
	l := nalloc.Layout{Size: MiB, Align: 64}
	var ps []unsafe.Pointer
	free = func() {
		for _, p := range ps {
			a.Deallocate(p, l)
		}
	}
	for range n / MiB {
		p, err := a.Allocate(l)
		if err != nil {
			free()
			t.Fatal(err)
		}
		clear(unsafe.Slice((*byte)(p), MiB))
		ps = append(ps, p)
	}
	return free
}

// TestGCPacerKeepsGoUnderTheLimitLessOffHeap is the limit's promise, in
// the kernel's count: GOGC=off, GOMEMLIMIT=L, X bytes off-heap, and a
// stream of Go garbage many times L; the Go runtime's memory stays within
// L - X plus the slack docs/gcpacer.md states (the runtime's own
// headroom is below it; the test allows 5% of L).
func TestGCPacerKeepsGoUnderTheLimitLessOffHeap(t *testing.T) {
	const limit, offHeap = 512 * MiB, 256 * MiB
	if !runPacerChild(t, "GOGC=off", "GOMEMLIMIT=512MiB") {
		return
	}
	a := openGlibc(t)
	free := allocateWritten(t, a, offHeap)
	defer free()
	p := startGCPacer(t)
	defer p.Stop()
	if x := p.OffHeap(); x < offHeap*9/10 || x > offHeap+32*MiB {
		t.Errorf("OffHeap() = %d MiB with %d MiB written in glibc", x/MiB, offHeap/MiB)
	}
	if _, l := gcSettings(); l > limit-offHeap*9/10 {
		t.Errorf("limit %d MiB under GOMEMLIMIT=512MiB with %d MiB off-heap", l/MiB, offHeap/MiB)
	}
	var ring [512][]byte
	var peak uint64
	for i := range 4 * limit / (64 * KiB) { // 4 L of garbage, 64 KiB at a time
		b := make([]byte, 64*KiB)
		for j := 0; j < len(b); j += 4 * KiB {
			b[j] = 1 // written, as a program writes what it allocates
		}
		ring[i%len(ring)] = b
		if i%64 == 0 {
			peak = max(peak, goRuntimeBytes())
		}
	}
	runtime.KeepAlive(ring)
	// The limit is soft: the runtime overshoots it while a cycle runs,
	// by more when other processes take the CPU from the collector (the
	// package tests run beside others). L/10 of slack still tells the
	// paced runtime (at most L-X) from an unpaced one, which grows to L.
	if most := uint64(limit - offHeap + limit/10); peak > most {
		t.Errorf("the Go runtime held up to %d MiB with %d MiB off-heap under a %d MiB limit; want at most %d MiB",
			peak/MiB, offHeap/MiB, limit/MiB, most/MiB)
	}
	t.Logf("Go runtime peak %d MiB, off-heap %d MiB, limit %d MiB", peak/MiB, p.OffHeap()/MiB, limit/MiB)
}

// TestGCPacerUpdateAllocatesNothing: a recomputation adds no garbage of
// its own to the heap it paces.
func TestGCPacerUpdateAllocatesNothing(t *testing.T) {
	p, err := nalloc.NewIdlePacer()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Restore()
	if n := testing.AllocsPerRun(100, p.Update); n != 0 {
		t.Errorf("a recomputation makes %v Go heap allocations, want 0", n)
	}
}
