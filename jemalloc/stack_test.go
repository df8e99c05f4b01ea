// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package jemalloc_test

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/nalloc/nalloc/internal/ctest"
	"github.com/nalloc/nalloc/internal/ffi"
	"github.com/nalloc/nalloc/jemalloc"
)

// TestStackUse measures how much stack jemalloc's calls take, above all
// on threads that never called jemalloc before: the first call on a
// thread sets up its tsd and tcache, and may create the automatic arena
// the thread is given. The threads run at the same time, so that jemalloc
// spreads them over new arenas. docs/backends.md ("Stack") has the figures.
func TestStackUse(t *testing.T) {
	a := open(t) // loaded, and initialised on the system stack
	h := newHeap(t)
	sym := ctest.Lookup(t, a.Library())
	malloc, free, memalign, realloc := sym("malloc"), sym("free"), sym("memalign"), sym("realloc")
	mallocx, sdallocx, rallocx, xallocx, sallocx := sym("mallocx"), sym("sdallocx"), sym("rallocx"), sym("xallocx"), sym("sallocx")
	m := ctest.NewStackMeter(t, sym("nallocx"))
	heapFlags := uintptr(h.Index()+1)<<20 | 1<<8 // MALLOCX_ARENA(i) | MALLOCX_TCACHE_NONE
	narenas, err := jemalloc.Mallctl[uint32](a, "opt.narenas")
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	arenas := map[uint32]bool{}
	threads, steps := int(narenas)+4, 60
	if testing.Short() {
		steps = 15
	}
	var started, wg sync.WaitGroup
	started.Add(threads)
	for th := range threads {
		wg.Go(func() {
			runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
			// Whichever comes first on this thread initialises it; the
			// same call again shows the steady state.
			switch th % 3 {
			case 0:
				p := m.Call("first call: malloc", malloc, 64, 0, 0, 0)
				q := m.Call("then: malloc", malloc, 64, 0, 0, 0)
				m.Call("free", free, p, 0, 0, 0)
				m.Call("free", free, q, 0, 0, 0)
			default:
				name, flags := "mallocx", uintptr(0)
				if th%3 == 2 {
					name, flags = "heap mallocx", heapFlags
				}
				p := m.Call("first call: "+name, mallocx, 64, flags, 0, 0)
				q := m.Call("then: "+name, mallocx, 64, flags, 0, 0)
				m.Call("sdallocx", sdallocx, p, 64, flags, 0)
				m.Call("sdallocx", sdallocx, q, 64, flags, 0)
			}
			ta, err := jemalloc.Mallctl[uint32](a, "thread.arena") // on this thread: it is locked
			if err != nil {
				t.Error(err)
			}
			started.Done()
			started.Wait() // every thread stays alive until all have started

			// Then a random mix below the slow threshold, as the fast
			// path sees it: tcache fills and flushes, slab and extent
			// allocation, decay ticks that purge. Standard blocks (flags
			// -1 here) take malloc, memalign, realloc and free; the others
			// jemalloc's own calls, in the automatic arenas or the heap's.
			rng := rand.New(rand.NewPCG(uint64(th), 7))
			type blk struct{ p, size, flags uintptr }
			const standard = ^uintptr(0)
			var live []blk
			for range steps {
				flags := []uintptr{standard, 0, heapFlags}[rng.IntN(3)]
				switch op := rng.IntN(10); {
				case op < 5 || len(live) == 0:
					size := uintptr(1 + rng.IntN(1<<rng.IntN(18)))
					aligned := rng.IntN(4) == 0
					var p uintptr
					switch {
					case flags == standard && aligned:
						p = m.Call("memalign", memalign, 4096, size, 0, 0)
					case flags == standard:
						p = m.Call("malloc", malloc, size, 0, 0, 0)
					case aligned:
						flags |= 12 // MALLOCX_LG_ALIGN(12)
						fallthrough
					default:
						p = m.Call("mallocx", mallocx, size, flags, 0, 0)
					}
					live = append(live, blk{p, size, flags})
				case op < 8:
					i := rng.IntN(len(live))
					if b := live[i]; b.flags == standard {
						m.Call("free", free, b.p, 0, 0, 0)
					} else {
						m.Call("sdallocx", sdallocx, b.p, b.size, b.flags, 0)
					}
					live = append(live[:i], live[i+1:]...)
				case op < 9:
					i := rng.IntN(len(live))
					size := uintptr(1 + rng.IntN(1<<17))
					if live[i].flags == standard {
						live[i].p = m.Call("realloc", realloc, live[i].p, size, 0, 0)
					} else {
						live[i].p = m.Call("rallocx", rallocx, live[i].p, size, live[i].flags, 0)
					}
					live[i].size = size
				default:
					i := rng.IntN(len(live))
					flags := live[i].flags
					if flags == standard {
						flags = 0
					}
					m.Call("xallocx", xallocx, live[i].p, live[i].size*2, 0, flags)
					live[i].size = ffi.Slow2(sallocx, live[i].p, 0)
				}
			}
			for _, b := range live {
				if b.flags == standard {
					ffi.Slow1(free, b.p)
				} else {
					ffi.Slow3(sdallocx, b.p, b.size, b.flags)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			arenas[ta] = true
		})
	}
	wg.Wait()
	t.Logf("%d threads, on %d of jemalloc's %d automatic arenas", threads, len(arenas), narenas)
	m.Check(t)
}
