// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloctest

import (
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nalloc/nalloc"
)

// Stress hammers a goroutine-safe allocator from many goroutines at once:
// mixed sizes from a few bytes to 4 MiB, Grow and Shrink, and blocks
// handed to other goroutines to be freed there (so, usually, on another
// thread than the one that allocated them). Every block's contents are
// checked before it is resized or freed, and the allocator is wrapped in
// nalloc.NewCounting: at the end its counts must equal the workers' own
// tallies, with nothing live, so that nothing is lost or counted twice.
//
// It runs for the duration in the environment variable NALLOC_STRESS (a
// time.ParseDuration string, as make stress sets it), or 2 seconds (0.5
// with -short).
func Stress(t *testing.T, c Config) {
	t.Helper()
	if c.NotConcurrent {
		t.Skip("the allocator is not safe for concurrent use")
	}
	d := 2 * time.Second
	if testing.Short() {
		d = 500 * time.Millisecond
	}
	if s := os.Getenv("NALLOC_STRESS"); s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			t.Fatalf("NALLOC_STRESS=%q: %v", s, err)
		}
	}
	ctr := nalloc.NewCounting(c.New(t))
	const workers = 8
	inbox := make([]chan block, workers)
	for i := range inbox {
		inbox[i] = make(chan block, 64)
	}
	var allocs, frees, resizes atomic.Uint64
	free := func(b block) bool {
		if err := check(b.p, b.l.Size, b.tag); err != nil {
			t.Errorf("block %v: %v", b.l, err)
			return false
		}
		ctr.Deallocate(b.p, b.l)
		frees.Add(1)
		return true
	}
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			var live []block
			tag := byte(w * 32)
			for ok := true; ok && time.Now().Before(deadline); {
				// Free what other workers handed over.
				for drained := false; !drained && ok; {
					select {
					case b := <-inbox[w]:
						ok = free(b)
					default:
						drained = true
					}
				}
				l := stressLayout(rng)
				p, err := ctr.Allocate(l)
				if err != nil {
					t.Errorf("Allocate(%v): %v", l, err)
					return
				}
				allocs.Add(1)
				tag++
				fill(p, l.Size, tag)
				live = append(live, block{p, l, tag})

				if rng.IntN(4) == 0 { // resize one of ours
					i := rng.IntN(len(live))
					b := live[i]
					nl := stressLayout(rng)
					resize := ctr.Grow
					if nl.Size < b.l.Size {
						resize = ctr.Shrink
					}
					if err := check(b.p, b.l.Size, b.tag); err != nil {
						t.Errorf("block %v before resizing: %v", b.l, err)
						return
					}
					q, err := resize(b.p, b.l, nl)
					if err != nil {
						t.Errorf("resize %v -> %v: %v", b.l, nl, err)
						return
					}
					resizes.Add(1)
					if err := checkPrefix(q, b.l.Size, nl.Size, b.tag); err != nil {
						t.Errorf("resize %v -> %v: %v", b.l, nl, err)
						return
					}
					fill(q, nl.Size, b.tag)
					live[i] = block{q, nl, b.tag}
				}
				if len(live) > 32 { // let one go: here, or on another worker
					i := rng.IntN(len(live))
					b := live[i]
					live[i] = live[len(live)-1]
					live = live[:len(live)-1]
					select {
					case inbox[rng.IntN(workers)] <- b:
					default:
						ok = free(b)
					}
				}
			}
			for _, b := range live {
				free(b)
			}
		})
	}
	wg.Wait()
	for _, ch := range inbox {
		close(ch)
		for b := range ch {
			free(b)
		}
	}
	s := ctr.Counts()
	if s.Allocations != allocs.Load() || s.Deallocations != frees.Load() || s.Resizes != resizes.Load() ||
		s.Allocations != s.Deallocations || s.LiveBytes != 0 || s.Failures != 0 {
		t.Errorf("counts disagree: Counting %+v; workers: %d allocations, %d frees, %d resizes",
			s, allocs.Load(), frees.Load(), resizes.Load())
	}
	t.Logf("%v: %d allocations, %d cross-checked frees, %d resizes, peak %d live bytes",
		d, s.Allocations, s.Deallocations, s.Resizes, s.PeakLiveBytes)
}

// stressLayout draws sizes log-uniformly up to 64 KiB, and one in 64 up
// to 4 MiB (the slow path); alignments from 1 to 4 KiB.
func stressLayout(rng *rand.Rand) nalloc.Layout {
	maxShift := 16
	if rng.IntN(64) == 0 {
		maxShift = 22
	}
	size := uintptr(rng.Int64N(int64(1)<<rng.IntN(maxShift+1)) + 1)
	return nalloc.Layout{Size: size, Align: uintptr(1) << rng.IntN(13)}
}
