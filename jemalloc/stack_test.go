// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package jemalloc_test

import (
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"
	"testing"

	"github.com/nalloc/nalloc/internal/ctest"
	"github.com/nalloc/nalloc/internal/ffi"
	"github.com/nalloc/nalloc/jemalloc"
)

// TestStackUse measures how much stack jemalloc's calls take, above all
// on threads that never called jemalloc before: the first call on a
// thread sets up its tsd and tcache, and may create the automatic arena
// the thread is given, and in nalloc that call comes through the fast
// path, on the goroutine stack, inside the direct path's frame (see
// internal/ffi). The threads run at the same time, so that jemalloc
// spreads them over new arenas. The figures are in the package doc.
func TestStackUse(t *testing.T) {
	a := open(t) // loaded, and initialised on the system stack
	ar := newArena(t)
	sym := ctest.Lookup(t, a.Library())
	mallocx, sdallocx, rallocx, xallocx, sallocx := sym("mallocx"), sym("sdallocx"), sym("rallocx"), sym("xallocx"), sym("sallocx")
	if _, _, ok := ffi.StackUse(sym("nallocx"), 64, 0, 0, 0); !ok {
		t.Skip("no stack measurement in this build")
	}
	arenaFlags := uintptr(ar.Index()+1)<<20 | 1<<8 // MALLOCX_ARENA(i) | MALLOCX_TCACHE_NONE
	narenas, err := jemalloc.Mallctl[uint32](a, "opt.narenas")
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	worst := map[string]uintptr{}
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
			local := map[string]uintptr{}
			measure := func(name string, fn, a0, a1, a2, a3 uintptr) uintptr {
				r, used, _ := ffi.StackUse(fn, a0, a1, a2, a3)
				local[name] = max(local[name], used)
				return r
			}
			// Whichever comes first on this thread initialises it; the
			// same call again shows the steady state.
			name, flags := "mallocx", uintptr(0)
			if th%3 == 2 {
				name, flags = "arena mallocx", arenaFlags
			}
			p := measure("first call: "+name, mallocx, 64, flags, 0, 0)
			q := measure("then: "+name, mallocx, 64, flags, 0, 0)
			measure("sdallocx", sdallocx, p, 64, flags, 0)
			measure("sdallocx", sdallocx, q, 64, flags, 0)
			ta, err := jemalloc.Mallctl[uint32](a, "thread.arena") // on this thread: it is locked
			if err != nil {
				t.Error(err)
			}
			started.Done()
			started.Wait() // every thread stays alive until all have started

			// Then a random mix below the blocking threshold, as the fast
			// path sees it: tcache fills and flushes, slab and extent
			// allocation, decay ticks that purge.
			rng := rand.New(rand.NewPCG(uint64(th), 7))
			type blk struct{ p, size, flags uintptr }
			var live []blk
			for range steps {
				flags := uintptr(0)
				if rng.IntN(3) == 0 {
					flags = arenaFlags
				}
				switch op := rng.IntN(10); {
				case op < 5 || len(live) == 0:
					size := uintptr(1 + rng.IntN(1<<rng.IntN(18)))
					if rng.IntN(4) == 0 {
						flags |= 12 // MALLOCX_LG_ALIGN(12)
					}
					live = append(live, blk{measure("mallocx", mallocx, size, flags, 0, 0), size, flags})
				case op < 8:
					i := rng.IntN(len(live))
					b := live[i]
					measure("sdallocx", sdallocx, b.p, b.size, b.flags, 0)
					live = append(live[:i], live[i+1:]...)
				case op < 9:
					i := rng.IntN(len(live))
					size := uintptr(1 + rng.IntN(1<<17))
					live[i].p = measure("rallocx", rallocx, live[i].p, size, live[i].flags, 0)
					live[i].size = size
				default:
					i := rng.IntN(len(live))
					measure("xallocx", xallocx, live[i].p, live[i].size*2, 0, live[i].flags)
					live[i].size = ffi.Block2(sallocx, live[i].p, 0)
				}
			}
			for _, b := range live {
				ffi.Block3(sdallocx, b.p, b.size, b.flags)
			}
			mu.Lock()
			defer mu.Unlock()
			arenas[ta] = true
			for k, v := range local {
				worst[k] = max(worst[k], v)
			}
		})
	}
	wg.Wait()
	t.Logf("%d threads, on %d of jemalloc's %d automatic arenas", threads, len(arenas), narenas)
	names := make([]string, 0, len(worst))
	for name := range worst {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		used := worst[name]
		t.Logf("%-26s %5d bytes of stack", name, used)
		if used == 0 || used > ffi.MinSystemStack/2 {
			t.Errorf("%s used %d bytes of stack; half the smallest system stack is %d", name, used, ffi.MinSystemStack/2)
		}
	}
}
