// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/cgroup/cgrouptest"
)

// The fragmentation workload under a real memory limit (fragLimit): a
// native heap built from several goroutines, most of it freed in random
// order, so that the allocator holds much more than is live; then a live
// Go heap and a stream of Go garbage. Only if the allocator gives its
// free memory back do the live sets and the Go heap's headroom fit in
// 256 MiB.
const (
	fragNative     = 144 * MiB // allocated, in blocks of 256 B to 8 KiB
	fragKeep       = 0.15      // of the blocks, the share that stays live
	fragGoLive     = 80 * MiB
	fragGoGarbage  = 768 * MiB
	fragGoroutines = 4
)

// fragModes are the runs TestGCPacerFragmentedHeapInACgroup compares.
var fragModes = []struct{ name, about string }{
	{"paced", "StartGCPacer(GCPacerContainerLimit(0.9))"},
	{"paced-no-purge", "the same without off-heap scavenging"},
	{"unpaced", "no pacer, no memory limit"},
}

// TestGCPacerFragmentedHeapInACgroup runs the fragmentation workload in
// a cgroup v1 memory group of its own for each mode: with the pacer and
// GCPacerContainerLimit, it must finish with no OOM kill and its peak
// within the limit; the runs without scavenging and without the pacer
// are measured beside it, and logged. NALLOC_FRAG_IMPL picks the
// allocator (glibc by default), NALLOC_FRAG_LIMIT the group's limit in
// MiB (256 by default; the assertions hold for it).
func TestGCPacerFragmentedHeapInACgroup(t *testing.T) {
	if mode := os.Getenv("NALLOC_PACER_CHILD"); mode == t.Name() {
		fragChild(t, os.Getenv("NALLOC_FRAG_MODE"))
		return
	}
	if raceEnabled {
		t.Skip("the race detector's shadow memory doubles the footprint this test sizes against its limit")
	}
	impl := cmpOr(os.Getenv("NALLOC_FRAG_IMPL"), "glibc")
	limit, err := strconv.ParseUint(cmpOr(os.Getenv("NALLOC_FRAG_LIMIT"), "256"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	limit *= MiB
	for _, m := range fragModes {
		g := cgrouptest.NewGroup(t, limit)
		start := time.Now()
		cmd := inCgroup(t, g, t.Name(), "NALLOC_FRAG_MODE="+m.name, "NALLOC_FRAG_IMPL="+impl, "GOMEMLIMIT=off", "GOGC=100")
		out, err := cmd.CombinedOutput()
		wall := time.Since(start)
		u, uerr := g.Usage()
		if uerr != nil {
			t.Fatal(uerr)
		}
		figures := "did not finish"
		if f := regexp.MustCompile(`figures: (.*)`).FindSubmatch(out); f != nil {
			figures = string(f[1])
		}
		t.Logf("%s, %s (%s): exit %v, OOM kills %d, failcnt %d, peak %d MiB of %d MiB, %.1fs; %s",
			impl, m.name, m.about, cmd.ProcessState, u.OOMKills, u.Failcnt, u.Peak/MiB, limit/MiB, wall.Seconds(), figures)
		if m.name == "paced" {
			if err != nil || u.OOMKills != 0 || u.Peak > limit || !strings.Contains(string(out), "--- PASS") {
				t.Errorf("with the pacer and GCPacerContainerLimit(0.9): exit %v, %d OOM kills, peak %d MiB under a %d MiB limit; want it to finish within the limit\n%s",
					err, u.OOMKills, u.Peak/MiB, limit/MiB, out)
			}
		}
		if err := g.Remove(); err != nil {
			t.Error(err)
		}
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// fragChild is the workload, in the group.
func fragChild(t *testing.T, mode string) {
	a, err := nalloc.Open(cmpOr(os.Getenv("NALLOC_FRAG_IMPL"), "glibc"))
	if err != nil {
		t.Fatal(err)
	}
	var p *nalloc.GCPacer
	switch mode {
	case "paced":
		p = startGCPacer(t, nalloc.GCPacerContainerLimit(0.9))
	case "paced-no-purge":
		p = startGCPacer(t, nalloc.GCPacerContainerLimit(0.9), nalloc.GCPacerNoPurge())
	}
	start := time.Now()

	// The native heap, from several goroutines (several arenas, thread
	// caches), every block written; then most blocks freed, in random
	// order, from several goroutines.
	type block struct {
		p unsafe.Pointer
		l nalloc.Layout
	}
	var mu sync.Mutex
	var blocks []block
	var wg sync.WaitGroup
	for w := range fragGoroutines {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			var mine []block
			for n := 0; n < fragNative/fragGoroutines; {
				l := nalloc.Layout{Size: 256 << r.IntN(6), Align: 16} // 256 B to 8 KiB
				b, err := a.Allocate(l)
				if err != nil {
					t.Error(err)
					return
				}
				clear(unsafe.Slice((*byte)(b), l.Size))
				mine = append(mine, block{b, l})
				n += int(l.Size)
			}
			mu.Lock()
			blocks = append(blocks, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	rand.New(rand.NewPCG(7, 7)).Shuffle(len(blocks), func(i, j int) { blocks[i], blocks[j] = blocks[j], blocks[i] })
	keep := int(float64(len(blocks)) * fragKeep)
	free := blocks[keep:]
	for w := range fragGoroutines {
		wg.Go(func() {
			for i := w; i < len(free); i += fragGoroutines {
				a.Deallocate(free[i].p, free[i].l)
			}
		})
	}
	wg.Wait()
	blocks = blocks[:keep]
	fmt.Println("native heap built and fragmented")

	// The live Go heap, with pointers for the collector to trace, and the
	// garbage stream, every byte written as a program writes what it
	// allocates.
	type node struct {
		next *node
		data [8*KiB - 8]byte
	}
	var live *node
	for range fragGoLive / (8 * KiB) {
		n := &node{next: live}
		for i := 0; i < len(n.data); i += 512 {
			n.data[i] = 1
		}
		live = n
	}
	var ring [64][]byte
	for i := range fragGoGarbage / (64 * KiB) {
		b := make([]byte, 64*KiB)
		for j := 0; j < len(b); j += 4 * KiB {
			b[j] = 1
		}
		ring[i%len(ring)] = b
	}
	runtime.KeepAlive(ring)
	runtime.KeepAlive(live)

	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	purges, purged, spent := int64(0), int64(0), time.Duration(0)
	if p != nil {
		ms := p.AppendMetrics(nil)
		purges, purged = metricValue(ms, "gcpacer_purges_total"), metricValue(ms, "gcpacer_purged_bytes_total")
		spent = time.Duration(metricValue(ms, "gcpacer_purge_nanoseconds_total"))
		p.Stop()
		// The round must show in the count: one that gave memory back
		// but left the count where it was would leave the Go heap
		// squeezed for nothing.
		if mode == "paced" && purged < 16*MiB {
			t.Errorf("the pacer's Purge rounds (%d) lowered its count by %d MiB, want at least 16 MiB", purges, purged/MiB)
		}
	}
	fmt.Printf("figures: GC CPU %.2fs, %d GC cycles, %d purges giving back %d MiB in %v, %.1fs of work\n",
		s[0].Value.Float64(), s[1].Value.Uint64(), purges, purged/MiB, spent.Round(10*time.Microsecond), time.Since(start).Seconds())
	for _, b := range blocks {
		a.Deallocate(b.p, b.l)
	}
}
