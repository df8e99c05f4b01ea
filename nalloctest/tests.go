// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloctest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
)

// huge is a size no machine can supply: 2^62 bytes.
const huge = 1 << 62

func mustAllocate(t testing.TB, a nalloc.Allocator, l nalloc.Layout) unsafe.Pointer {
	t.Helper()
	p, err := a.Allocate(l)
	if err != nil {
		t.Fatalf("%T.Allocate(%v): %v", a, l, err)
	}
	if p == nil {
		t.Fatalf("%T.Allocate(%v) = nil with no error", a, l)
	}
	if !aligned(p, l.Align) {
		t.Fatalf("%T.Allocate(%v) = %p, not aligned", a, l, p)
	}
	return p
}

// testAlignments allocates every size at every alignment, keeps each
// alignment's blocks live together, and checks alignment, contents and
// that no two blocks overlap.
func testAlignments(t *testing.T, c *Config) {
	a := c.New(t)
	for _, align := range alignments() {
		var live []block
		for i, size := range sizes {
			l := nalloc.Layout{Size: size, Align: align}
			p := mustAllocate(t, a, l)
			b := block{p, l, byte(i)}
			fill(p, size, b.tag)
			live = append(live, b)
		}
		if err := overlap(live); err != nil {
			t.Fatalf("align %d: %v", align, err)
		}
		for _, b := range live {
			if err := check(b.p, b.l.Size, b.tag); err != nil {
				t.Fatalf("%v: %v (overwritten while other blocks were live)", b.l, err)
			}
			a.Deallocate(b.p, b.l)
		}
	}
}

func testZeroSize(t *testing.T, c *Config) {
	a := c.New(t)
	for _, align := range alignments() {
		l := nalloc.Layout{Size: 0, Align: align}
		p := mustAllocate(t, a, l)
		a.Deallocate(p, l)
		a.Deallocate(nil, l) // must do nothing
	}
}

func testLarge(t *testing.T, c *Config) {
	a := c.New(t)
	l := nalloc.Layout{Size: c.large(), Align: 4096}
	p := mustAllocate(t, a, l)
	fill(p, l.Size, 0x5c)
	if err := check(p, l.Size, 0x5c); err != nil {
		t.Fatalf("%v: %v", l, err)
	}
	a.Deallocate(p, l)
}

// testZeroed makes the allocator dirty (blocks filled with 0xff and
// freed, so that their memory is reused), then checks that AllocateZeroed
// and GrowZeroed give zeros.
func testZeroed(t *testing.T, c *Config) {
	a := c.New(t)
	for _, align := range []uintptr{1, 8, 16, 64, 4096, 64 << 10} {
		for _, size := range sizes {
			l := nalloc.Layout{Size: size, Align: align}
			dirty := mustAllocate(t, a, l)
			smear(dirty, size)
			a.Deallocate(dirty, l)

			p, err := nalloc.AllocateZeroed(a, l)
			if err != nil || p == nil || !aligned(p, align) {
				t.Fatalf("AllocateZeroed(%v) = %p, %v", l, p, err)
			}
			if err := checkZero(p, 0, size); err != nil {
				t.Fatalf("AllocateZeroed(%v): %v", l, err)
			}
			a.Deallocate(p, l)
		}
	}
	for _, tr := range transitions(true) {
		p := mustAllocate(t, a, tr.old)
		fill(p, tr.old.Size, 0x3a)
		q, err := nalloc.GrowZeroed(a, p, tr.old, tr.new)
		if err != nil || q == nil || !aligned(q, tr.new.Align) {
			t.Fatalf("GrowZeroed(%v -> %v) = %p, %v", tr.old, tr.new, q, err)
		}
		if err := check(q, tr.old.Size, 0x3a); err != nil {
			t.Fatalf("GrowZeroed(%v -> %v) lost the old contents: %v", tr.old, tr.new, err)
		}
		if err := checkZero(q, tr.old.Size, tr.new.Size); err != nil {
			t.Fatalf("GrowZeroed(%v -> %v): %v", tr.old, tr.new, err)
		}
		a.Deallocate(q, tr.new)
	}
}

type transition struct{ old, new nalloc.Layout }

// transitions returns Grow (grow true) or Shrink cases: sizes across size
// classes, pages and the slow threshold, with the alignment going up,
// down and staying.
func transitions(grow bool) []transition {
	pairs := [][2]uintptr{{0, 1}, {1, 17}, {8, 64}, {24, 1000}, {100, 4096}, {4000, 70000},
		{65536, 300 << 10}, {200 << 10, 2 << 20}, {3 << 20, 5 << 20}}
	aligns := [][2]uintptr{{1, 1}, {8, 8}, {16, 16}, {8, 64}, {64, 8}, {16, 4096}, {4096, 16},
		{64 << 10, 64 << 10}, {1, 64 << 10}, {64 << 10, 2}}
	var ts []transition
	for _, s := range pairs {
		for _, al := range aligns {
			old := nalloc.Layout{Size: s[0], Align: al[0]}
			new := nalloc.Layout{Size: s[1], Align: al[1]}
			if !grow {
				old.Size, new.Size = s[1], s[0]
			}
			ts = append(ts, transition{old, new})
		}
	}
	return ts
}

// testGrowShrink checks that Grow and Shrink keep the contents and honour
// the new alignment, and that the new block is entirely usable.
func testGrowShrink(t *testing.T, c *Config) {
	a := c.New(t)
	for _, grow := range []bool{true, false} {
		op, resize := "Shrink", a.Shrink
		if grow {
			op, resize = "Grow", a.Grow
		}
		for i, tr := range transitions(grow) {
			tag := byte(i)
			p := mustAllocate(t, a, tr.old)
			fill(p, tr.old.Size, tag)
			q, err := resize(p, tr.old, tr.new)
			if err != nil || q == nil {
				t.Fatalf("%s(%v -> %v) = %p, %v", op, tr.old, tr.new, q, err)
			}
			if !aligned(q, tr.new.Align) {
				t.Fatalf("%s(%v -> %v) = %p, not aligned", op, tr.old, tr.new, q)
			}
			if err := checkPrefix(q, tr.old.Size, tr.new.Size, tag); err != nil {
				t.Fatalf("%s(%v -> %v) lost contents: %v", op, tr.old, tr.new, err)
			}
			fill(q, tr.new.Size, tag+1)
			if err := check(q, tr.new.Size, tag+1); err != nil {
				t.Fatalf("%s(%v -> %v): the new block is not all usable: %v", op, tr.old, tr.new, err)
			}
			a.Deallocate(q, tr.new)
		}
	}
}

// testGrowChain grows one block step by step, as a vector would, changing
// the alignment on the way, and checks the contents at every step; then
// shrinks it back down.
func testGrowChain(t *testing.T, c *Config) {
	a := c.New(t)
	aligns := []uintptr{8, 16, 64, 8, 4096, 1, 32}
	l := nalloc.Layout{Size: 1, Align: 8}
	p := mustAllocate(t, a, l)
	fill(p, l.Size, 7)
	for i := 0; l.Size < 8<<20; i++ {
		next := nalloc.Layout{Size: l.Size*2 + uintptr(i%3), Align: aligns[i%len(aligns)]}
		q, err := a.Grow(p, l, next)
		if err != nil || !aligned(q, next.Align) {
			t.Fatalf("step %d: Grow(%v -> %v) = %p, %v", i, l, next, q, err)
		}
		if err := check(q, l.Size, 7); err != nil {
			t.Fatalf("step %d: Grow(%v -> %v): %v", i, l, next, err)
		}
		fill(q, next.Size, 7)
		p, l = q, next
	}
	for i := 0; l.Size > 1; i++ {
		next := nalloc.Layout{Size: l.Size / 3, Align: aligns[i%len(aligns)]}
		q, err := a.Shrink(p, l, next)
		if err != nil || !aligned(q, next.Align) {
			t.Fatalf("step %d: Shrink(%v -> %v) = %p, %v", i, l, next, q, err)
		}
		if err := checkPrefix(q, l.Size, next.Size, 7); err != nil {
			t.Fatalf("step %d: Shrink(%v -> %v): %v", i, l, next, err)
		}
		fill(q, next.Size, 7)
		p, l = q, next
	}
	a.Deallocate(p, l)
}

// testFailedGrow asks for 2^62 bytes and checks that the block is still
// there, intact and usable, afterwards.
func testFailedGrow(t *testing.T, c *Config) {
	a := c.New(t)
	for _, align := range []uintptr{8, 16, 4096, 64 << 10} {
		l := nalloc.Layout{Size: 4096, Align: align}
		p := mustAllocate(t, a, l)
		fill(p, l.Size, 0x77)
		for _, newAlign := range []uintptr{8, 4096} {
			huge := nalloc.Layout{Size: huge, Align: newAlign}
			q, err := a.Grow(p, l, huge)
			if !errors.Is(err, nalloc.ErrOutOfMemory) || q != nil {
				t.Fatalf("Grow(%v -> %v) = %p, %v; want nil and ErrOutOfMemory", l, huge, q, err)
			}
			q, err = nalloc.GrowZeroed(a, p, l, huge)
			if !errors.Is(err, nalloc.ErrOutOfMemory) || q != nil {
				t.Fatalf("GrowZeroed(%v -> %v) = %p, %v; want nil and ErrOutOfMemory", l, huge, q, err)
			}
			if err := check(p, l.Size, 0x77); err != nil {
				t.Fatalf("after a failed Grow(%v -> %v): %v", l, huge, err)
			}
		}
		// The block must still be the caller's, and still growable.
		bigger := nalloc.Layout{Size: 8192, Align: align}
		q, err := a.Grow(p, l, bigger)
		if err != nil {
			t.Fatalf("Grow(%v -> %v) after a failed Grow: %v", l, bigger, err)
		}
		if err := check(q, l.Size, 0x77); err != nil {
			t.Fatalf("Grow after a failed Grow: %v", err)
		}
		a.Deallocate(q, bigger)
	}
}

func testWrongDirection(t *testing.T, c *Config) {
	a := c.New(t)
	l := nalloc.Layout{Size: 1000, Align: 8}
	p := mustAllocate(t, a, l)
	fill(p, l.Size, 0x11)
	smaller, larger := nalloc.Layout{Size: 10, Align: 8}, nalloc.Layout{Size: 5000, Align: 8}
	if q, err := a.Grow(p, l, smaller); !errors.Is(err, nalloc.ErrInvalidLayout) || q != nil {
		t.Errorf("Grow(%v -> %v) = %p, %v; want ErrInvalidLayout", l, smaller, q, err)
	}
	if q, err := a.Shrink(p, l, larger); !errors.Is(err, nalloc.ErrInvalidLayout) || q != nil {
		t.Errorf("Shrink(%v -> %v) = %p, %v; want ErrInvalidLayout", l, larger, q, err)
	}
	if err := check(p, l.Size, 0x11); err != nil {
		t.Errorf("after Grow and Shrink in the wrong direction: %v", err)
	}
	a.Deallocate(p, l)
}

// invalidLayouts break the Layout rules one way each.
var invalidLayouts = []nalloc.Layout{
	{Size: 8, Align: 0},
	{Size: 8, Align: 3},
	{Size: 8, Align: 24},
	{Size: math.MaxUint64, Align: 1},
	{Size: math.MaxInt, Align: 2},
	{Size: 1, Align: 1 << 63},
	{Size: math.MaxInt - 100, Align: 4096},
}

func testInvalidLayouts(t *testing.T, c *Config) {
	a := c.New(t)
	good := nalloc.Layout{Size: 64, Align: 8}
	p := mustAllocate(t, a, good)
	fill(p, good.Size, 0x42)
	for _, bad := range invalidLayouts {
		if q, err := a.Allocate(bad); !errors.Is(err, nalloc.ErrInvalidLayout) || q != nil {
			t.Errorf("Allocate(%v) = %p, %v; want ErrInvalidLayout", bad, q, err)
		}
		if q, err := nalloc.AllocateZeroed(a, bad); !errors.Is(err, nalloc.ErrInvalidLayout) || q != nil {
			t.Errorf("AllocateZeroed(%v) = %p, %v; want ErrInvalidLayout", bad, q, err)
		}
		if q, err := a.Grow(p, good, bad); !errors.Is(err, nalloc.ErrInvalidLayout) || q != nil {
			t.Errorf("Grow(%v -> %v) = %p, %v; want ErrInvalidLayout", good, bad, q, err)
		}
		if q, err := a.Shrink(p, good, bad); !errors.Is(err, nalloc.ErrInvalidLayout) || q != nil {
			t.Errorf("Shrink(%v -> %v) = %p, %v; want ErrInvalidLayout", good, bad, q, err)
		}
	}
	if err := check(p, good.Size, 0x42); err != nil {
		t.Errorf("after calls with invalid layouts: %v", err)
	}
	a.Deallocate(p, good)
}

func testOutOfMemory(t *testing.T, c *Config) {
	a := c.New(t)
	for _, l := range []nalloc.Layout{{Size: huge, Align: 1}, {Size: huge, Align: 8},
		{Size: huge, Align: 4096}, {Size: math.MaxInt - 1<<20, Align: 1}} {
		if p, err := a.Allocate(l); !errors.Is(err, nalloc.ErrOutOfMemory) || p != nil {
			t.Errorf("Allocate(%v) = %p, %v; want nil and ErrOutOfMemory", l, p, err)
		}
		if p, err := nalloc.AllocateZeroed(a, l); !errors.Is(err, nalloc.ErrOutOfMemory) || p != nil {
			t.Errorf("AllocateZeroed(%v) = %p, %v; want nil and ErrOutOfMemory", l, p, err)
		}
	}
	// The allocator still works afterwards.
	l := nalloc.Layout{Size: 100, Align: 8}
	a.Deallocate(mustAllocate(t, a, l), l)
}

// randomLayout draws sizes log-uniformly up to 64 KiB (and now and then up
// to 1 MiB) and alignments from 1 to 4 KiB, small ones more often.
func randomLayout(rng *rand.Rand) nalloc.Layout {
	maxShift := 16
	if rng.IntN(50) == 0 {
		maxShift = 20
	}
	size := uintptr(rng.Int64N(int64(1) << rng.IntN(maxShift+1)))
	align := uintptr(1) << min(rng.IntN(14), rng.IntN(14))
	return nalloc.Layout{Size: size, Align: align}
}

// model runs random operations against an allocator, keeping every live
// block's tag to check its contents whenever the block is touched. Its
// methods return errors rather than failing the test, so that workers on
// other goroutines can report them.
type model struct {
	a    nalloc.Allocator
	rng  *rand.Rand
	live []block
	next byte
}

func (m *model) step() error {
	op := m.rng.IntN(10)
	if len(m.live) == 0 || (op < 4 && len(m.live) < 200) {
		return m.allocate(op == 0)
	}
	i := m.rng.IntN(len(m.live))
	b := m.live[i]
	if err := check(b.p, b.l.Size, b.tag); err != nil {
		return fmt.Errorf("live block %v: %w", b.l, err)
	}
	if op < 7 {
		m.a.Deallocate(b.p, b.l)
		m.live[i] = m.live[len(m.live)-1]
		m.live = m.live[:len(m.live)-1]
		return nil
	}
	l := randomLayout(m.rng)
	resize, name := m.a.Grow, "Grow"
	if l.Size < b.l.Size {
		resize, name = m.a.Shrink, "Shrink"
	}
	q, err := resize(b.p, b.l, l)
	if err != nil || q == nil || !aligned(q, l.Align) {
		return fmt.Errorf("%s(%v -> %v) = %p, %v", name, b.l, l, q, err)
	}
	if err := checkPrefix(q, b.l.Size, l.Size, b.tag); err != nil {
		return fmt.Errorf("%s(%v -> %v): %w", name, b.l, l, err)
	}
	fill(q, l.Size, b.tag)
	m.live[i] = block{q, l, b.tag}
	return nil
}

func (m *model) allocate(zeroed bool) error {
	l := randomLayout(m.rng)
	var p unsafe.Pointer
	var err error
	if zeroed {
		p, err = nalloc.AllocateZeroed(m.a, l)
	} else {
		p, err = m.a.Allocate(l)
	}
	if err != nil || p == nil || !aligned(p, l.Align) {
		return fmt.Errorf("Allocate(%v) (zeroed %v) = %p, %v", l, zeroed, p, err)
	}
	if zeroed {
		if err := checkZero(p, 0, l.Size); err != nil {
			return fmt.Errorf("AllocateZeroed(%v): %w", l, err)
		}
	}
	m.next++
	b := block{p, l, m.next}
	fill(p, l.Size, b.tag)
	m.live = append(m.live, b)
	return nil
}

func (m *model) freeAll() error {
	for _, b := range m.live {
		if err := check(b.p, b.l.Size, b.tag); err != nil {
			return fmt.Errorf("live block %v: %w", b.l, err)
		}
		m.a.Deallocate(b.p, b.l)
	}
	m.live = nil
	return nil
}

func testRandomOps(t *testing.T, c *Config) {
	steps := 20000
	if testing.Short() {
		steps = 4000
	}
	m := &model{a: c.New(t), rng: rand.New(rand.NewPCG(1, 2))}
	for i := range steps {
		if err := m.step(); err != nil {
			t.Fatalf("operation %d: %v", i, err)
		}
		if i%500 == 0 {
			if err := overlap(m.live); err != nil {
				t.Fatalf("after %d operations: %v", i, err)
			}
		}
	}
	if err := overlap(m.live); err != nil {
		t.Fatal(err)
	}
	if err := m.freeAll(); err != nil {
		t.Fatal(err)
	}
}

// testConcurrent runs the random model on several goroutines at once, and
// passes blocks between them so that some are freed on another goroutine
// (and so usually another thread) than the one that allocated them.
func testConcurrent(t *testing.T, c *Config) {
	if c.NotConcurrent {
		t.Skip("the allocator is not safe for concurrent use")
	}
	a := c.New(t)
	const workers = 8
	steps := 4000
	if testing.Short() {
		steps = 1000
	}
	handoff := make(chan block, workers*4)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			m := &model{a: a, rng: rand.New(rand.NewPCG(uint64(w), 99)), next: byte(w * 31)}
			for i := range steps {
				if err := m.step(); err != nil {
					t.Errorf("worker %d, operation %d: %v", w, i, err)
					return
				}
				if i%16 == 0 && len(m.live) > 0 {
					select {
					case handoff <- m.live[len(m.live)-1]:
						m.live = m.live[:len(m.live)-1]
					case b := <-handoff:
						m.live = append(m.live, b)
					default:
					}
				}
			}
			if err := m.freeAll(); err != nil {
				t.Errorf("worker %d: %v", w, err)
			}
		})
	}
	wg.Wait()
	close(handoff)
	for b := range handoff {
		if err := check(b.p, b.l.Size, b.tag); err != nil {
			t.Fatalf("handed-off block %v: %v", b.l, err)
		}
		a.Deallocate(b.p, b.l)
	}
}

func testNoGoAllocations(t *testing.T, c *Config) {
	if c.MayAllocate {
		t.Skip("the allocator may allocate on the Go heap")
	}
	a := c.New(t)
	for _, l := range []nalloc.Layout{{Size: 64, Align: 8}, {Size: 64, Align: 64},
		{Size: 4096, Align: 4096}, {Size: 1 << 20, Align: 16}} {
		var err error
		allocs := testing.AllocsPerRun(1000, func() {
			var p unsafe.Pointer
			if p, err = a.Allocate(l); err == nil {
				a.Deallocate(p, l)
			}
		})
		if err != nil {
			t.Fatalf("Allocate(%v): %v", l, err)
		}
		if allocs != 0 {
			t.Errorf("Allocate+Deallocate(%v) made %v Go heap allocations, want 0", l, allocs)
		}
	}
}

func testUsableSize(t *testing.T, c *Config) {
	a := c.New(t)
	us, ok := nalloc.As[nalloc.UsableSizer](a)
	if !ok {
		t.Skipf("%T has no UsableSize", a)
	}
	for _, align := range []uintptr{1, 16, 4096} {
		for _, size := range sizes {
			l := nalloc.Layout{Size: size, Align: align}
			p := mustAllocate(t, a, l)
			if got := nalloc.UsableSize(a, p); got < size || got != us.UsableSize(p) {
				t.Errorf("UsableSize of a %v block = %d (the capability found by As: %d), want at least its size from both", l, got, us.UsableSize(p))
			}
			a.Deallocate(p, l)
		}
	}
}

func testStats(t *testing.T, c *Config) {
	a := c.New(t)
	sr, ok := nalloc.As[nalloc.StatsReporter](a)
	if !ok {
		t.Skipf("%T has no Stats", a)
	}
	before, err := sr.Stats()
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if !c.StatsAllocated {
		return
	}
	l := nalloc.Layout{Size: 32 << 20, Align: 4096}
	p := mustAllocate(t, a, l)
	fill(p, l.Size, 1)
	during, err := sr.Stats()
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	a.Deallocate(p, l)
	after, err := sr.Stats()
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if during.Allocated < before.Allocated+uint64(l.Size)/2 {
		t.Errorf("Stats.Allocated went from %d to %d with a %d-byte block live", before.Allocated,
			during.Allocated, l.Size)
	}
	if after.Allocated > during.Allocated-uint64(l.Size)/2 {
		t.Errorf("Stats.Allocated went from %d to %d when a %d-byte block was freed", during.Allocated,
			after.Allocated, l.Size)
	}
}
