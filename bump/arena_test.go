// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package bump_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bump"
	"github.com/nalloc/nalloc/glibc"
	"github.com/nalloc/nalloc/nalloctest"
)

func TestConformance(t *testing.T) {
	libc, err := glibc.Open()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		new   func(testing.TB) nalloc.Allocator
		large uintptr
	}{
		{"default", func(testing.TB) nalloc.Allocator { return bump.New() }, 0},
		{"constant", func(testing.TB) nalloc.Allocator {
			return bump.New(bump.WithGrowth(bump.Constant), bump.WithChunkSize(64<<10))
		}, 0},
		{"limit", func(testing.TB) nalloc.Allocator { return bump.New(bump.WithLimit(256 << 20)) }, 64 << 20},
		{"parent=glibc", func(t testing.TB) nalloc.Allocator {
			a := bump.New(bump.WithParent(libc))
			t.Cleanup(a.Release)
			return a
		}, 0},
		{"buffer", func(testing.TB) nalloc.Allocator {
			return bump.New(bump.WithBuffer(make([]byte, 160<<20)))
		}, 16 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nalloctest.Run(t, nalloctest.Config{
				New:            tc.new,
				NotConcurrent:  true,
				StatsAllocated: true,
				Large:          tc.large,
			})
		})
	}
}

func TestOpenReturnsNewArenas(t *testing.T) {
	a, err := nalloc.Open("bump")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := nalloc.Open("bump")
	if _, ok := a.(*bump.Arena); !ok || a == b {
		t.Fatalf(`Open("bump") = %T %p and %p; want two distinct *bump.Arena`, a, a, b)
	}
}

// TestBlocksAreLaidOutUpwards checks the bump direction and the fast
// path's alignment: each block starts where the last ended, rounded up.
func TestBlocksAreLaidOutUpwards(t *testing.T) {
	a := bump.New()
	p := a.Alloc(10, 1)
	q := a.Alloc(8, 8)
	r := a.Alloc(1, 16)
	if want := (uintptr(p) + 10 + 7) &^ 7; uintptr(q) != want {
		t.Errorf("second block at %p, want %#x (after the first, aligned to 8)", q, want)
	}
	if want := (uintptr(q) + 8 + 15) &^ 15; uintptr(r) != want {
		t.Errorf("third block at %p, want %#x", r, want)
	}
}

func TestTryAllocFallsBack(t *testing.T) {
	a := bump.New()
	if p := a.TryAlloc(8, 8); p != nil {
		t.Fatalf("TryAlloc on a new arena = %p, want nil (no chunk yet)", p)
	}
	a.Alloc(8, 8)
	for _, align := range []uintptr{0, 3, 32, 4096, 1 << 63} {
		if p := a.TryAlloc(8, align); p != nil {
			t.Errorf("TryAlloc(8, %d) = %p, want nil (not for the fast path)", align, p)
		}
	}
	for _, align := range []uintptr{32, 4096, 64 << 10} {
		if p := a.Alloc(8, align); p == nil || uintptr(p)%align != 0 {
			t.Errorf("Alloc(8, %d) = %p, want an aligned block", align, p)
		}
	}
	for _, align := range []uintptr{0, 3, 24} {
		if p := a.Alloc(8, align); p != nil {
			t.Errorf("Alloc(8, %d) = %p, want nil", align, p)
		}
	}
}

func TestHugeRequests(t *testing.T) {
	for _, a := range []*bump.Arena{bump.New(), bump.New(bump.WithLimit(1 << 20))} {
		for _, size := range []uintptr{1 << 62, math.MaxUint, math.MaxUint - 15, math.MaxInt} {
			for _, align := range []uintptr{1, 16, 4096, 1 << 62} {
				if p := a.Alloc(size, align); p != nil {
					t.Errorf("Alloc(%d, %d) = %p, want nil", size, align, p)
				}
			}
		}
		if p := a.Alloc(64, 8); p == nil {
			t.Error("Alloc(64, 8) after refused requests = nil")
		}
		// Refusals leave the growth policy alone: after many, 10 MB
		// of 1 KiB blocks still take a handful of chunks, not one each
		// (Metadata is the chunk list).
		for range 40 {
			a.Alloc(1<<62, 8)
		}
		for range 10000 {
			a.Alloc(1024, 8)
		}
		if s, _ := a.Stats(); s.Metadata > 4096 {
			t.Errorf("10 MB of blocks after refused requests: a chunk list of %d bytes, want a handful of chunks", s.Metadata)
		}
	}
}

func TestInPlace(t *testing.T) {
	a := bump.New()
	l8 := nalloc.Layout{Size: 8, Align: 8}
	p, _ := a.Allocate(l8)
	l := nalloc.Layout{Size: 100, Align: 8}
	q, err := a.Grow(p, l8, l)
	if err != nil || q != p {
		t.Fatalf("Grow of the last block = %p, %v; want %p in place", q, err, p)
	}
	small := nalloc.Layout{Size: 40, Align: 8}
	if q, err = a.Shrink(p, l, small); err != nil || q != p {
		t.Fatalf("Shrink of the last block = %p, %v; want %p", q, err, p)
	}
	next := a.Alloc(8, 8)
	if uintptr(next) != uintptr(p)+40 {
		t.Fatalf("block after a Shrink to 40 at %p, want %p+40: the tail was not given back", next, p)
	}
	a.Deallocate(next, l8)
	if again := a.Alloc(8, 8); again != next {
		t.Fatalf("Alloc after Deallocate of the last block = %p, want %p again", again, next)
	}
	// p is not the last block any more: Grow moves it, Shrink keeps it.
	if q, err = a.Grow(p, small, l); err != nil || q == p {
		t.Fatalf("Grow of an earlier block = %p, %v; want a new block", q, err)
	}
	if r, err := a.Shrink(p, small, l8); err != nil || r != p {
		t.Fatalf("Shrink of an earlier block = %p, %v; want %p", r, err, p)
	}
	// A larger alignment than the block has moves it.
	if r, err := a.Shrink(q, l, nalloc.Layout{Size: 8, Align: 4096}); err != nil || uintptr(r)%4096 != 0 {
		t.Fatalf("Shrink to Align 4096 = %p, %v", r, err)
	}
}

// TestGrowChainInPlace grows one block, as a vector would, and checks that
// it never moves while its chunk has room.
func TestGrowChainInPlace(t *testing.T) {
	a := bump.New(bump.WithChunkSize(1 << 20))
	l := nalloc.Layout{Size: 16, Align: 8}
	p, _ := a.Allocate(l)
	for l.Size < 512<<10 {
		next := nalloc.Layout{Size: l.Size * 2, Align: 8}
		q, err := a.Grow(p, l, next)
		if err != nil || q != p {
			t.Fatalf("Grow(%v -> %v) = %p, %v; want %p in place", l, next, q, err, p)
		}
		l = next
	}
}

func TestReset(t *testing.T) {
	a := bump.New()
	round := func() {
		for range 1000 {
			if a.Alloc(64, 8) == nil {
				t.Fatal("Alloc = nil")
			}
		}
	}
	round()
	before, _ := a.Stats()
	a.Reset()
	after, _ := a.Stats()
	if after.Allocated != 0 || a.AllocatedBytes() != 0 {
		t.Errorf("after Reset, Allocated = %d, AllocatedBytes = %d; want 0", after.Allocated, a.AllocatedBytes())
	}
	if after.Mapped >= before.Mapped || after.Mapped < 64000 {
		t.Errorf("Reset kept %d of %d bytes of chunks; want only the largest chunk", after.Mapped, before.Mapped)
	}
	// The kept chunk holds a whole round: no more chunks, no Go allocation.
	if n := testing.AllocsPerRun(20, func() { round(); a.Reset() }); n != 0 {
		t.Errorf("a round after Reset made %v Go allocations, want 0", n)
	}
	if s, _ := a.Stats(); s.Mapped != after.Mapped {
		t.Errorf("rounds after Reset took more chunks: %d bytes, want %d", s.Mapped, after.Mapped)
	}
}

func TestAllocatedBytes(t *testing.T) {
	a := bump.New(bump.WithChunkSize(256))
	var want uintptr
	for i := range 100 {
		a.Alloc(uintptr(i), 1)
		want += uintptr(i)
	}
	// Chunks end with up to 16 bytes of guard and each new one abandons
	// the tail of the last, which AllocatedBytes does not count.
	if got := a.AllocatedBytes(); got != want {
		t.Errorf("AllocatedBytes = %d, want %d", got, want)
	}
}

func TestCheckpointRewind(t *testing.T) {
	a := bump.New(bump.WithChunkSize(1024))
	a.Alloc(100, 8)
	outer := a.Checkpoint()
	first := a.Alloc(8, 8)
	inner := a.Checkpoint()
	for range 100 { // several chunks
		a.Alloc(64, 8)
	}
	late := a.Checkpoint()
	mapped := func() uint64 { s, _ := a.Stats(); return s.Mapped }
	held := mapped()
	if err := a.Rewind(inner); err != nil {
		t.Fatal(err)
	}
	if got := a.AllocatedBytes(); got != 112 {
		t.Errorf("AllocatedBytes after Rewind = %d, want 112", got)
	}
	if err := a.Rewind(outer); err != nil {
		t.Fatal(err)
	}
	if err := a.Rewind(late); !errors.Is(err, bump.ErrStaleMark) {
		t.Errorf("Rewind to a mark in a chunk rewound past = %v, want ErrStaleMark", err)
	}
	// Marks nest like a stack: inner was taken after outer, so Rewind(outer)
	// made it stale, even in the same chunk (see marks_test.go for why).
	if err := a.Rewind(inner); !errors.Is(err, bump.ErrStaleMark) || a.AllocatedBytes() != 100 {
		t.Errorf("Rewind to a mark taken after the one rewound to = %v, AllocatedBytes %d; want ErrStaleMark and nothing done (100)",
			err, a.AllocatedBytes())
	}
	if again := a.Alloc(8, 8); again != first {
		t.Errorf("Alloc after Rewind = %p, want %p again", again, first)
	}
	for range 100 { // the spares serve these
		a.Alloc(64, 8)
	}
	if m := mapped(); m != held {
		t.Errorf("after Rewind and as many allocations, chunks hold %d bytes, want %d (the spares reused)", m, held)
	}
	a.Reset()
	if err := a.Rewind(outer); !errors.Is(err, bump.ErrStaleMark) {
		t.Errorf("Rewind to a mark from before Reset = %v, want ErrStaleMark", err)
	}
	empty := bump.New()
	m := empty.Checkpoint()
	empty.Alloc(10, 1)
	if err := empty.Rewind(m); err != nil || empty.AllocatedBytes() != 0 {
		t.Errorf("Rewind to the start = %v, AllocatedBytes %d", err, empty.AllocatedBytes())
	}
}

// TestRewindStaleIndex rewinds past a mark, lets a different chunk take
// the mark's chunk index, and checks that the old mark is refused rather
// than pointing the arena outside its chunk.
func TestRewindStaleIndex(t *testing.T) {
	a := bump.New(bump.WithChunkSize(64), bump.WithGrowth(bump.Constant))
	start := a.Checkpoint()
	a.Alloc(40, 1)
	a.Alloc(40, 1) // a second chunk
	late := a.Checkpoint()
	if err := a.Rewind(start); err != nil {
		t.Fatal(err)
	}
	a.Alloc(8, 1)
	a.Alloc(4000, 1) // the spare does not fit: a new chunk at index 1
	before := a.AllocatedBytes()
	if err := a.Rewind(late); !errors.Is(err, bump.ErrStaleMark) {
		t.Fatalf("Rewind to a mark whose chunk index another chunk took = %v, want ErrStaleMark", err)
	}
	if got := a.AllocatedBytes(); got != before || before != 4008 {
		t.Fatalf("AllocatedBytes = %d, then %d after a refused Rewind; want 4008", before, got)
	}
}

func TestLimit(t *testing.T) {
	const limit = 1 << 20
	a := bump.New(bump.WithLimit(limit))
	rng := rand.New(rand.NewPCG(1, 2))
	var failed int
	for range 10000 {
		if a.Alloc(uintptr(rng.IntN(8192)), 8) == nil {
			failed++
		}
		if s, _ := a.Stats(); s.Mapped > limit {
			t.Fatalf("the arena holds %d bytes, over its limit of %d", s.Mapped, limit)
		}
	}
	if failed == 0 {
		t.Fatal("40 MB of allocations under a 1 MiB limit all succeeded")
	}
	_, err := a.Allocate(nalloc.Layout{Size: 64 << 10, Align: 8})
	if !errors.Is(err, nalloc.ErrOutOfMemory) || !strings.Contains(err.Error(), "limit") {
		t.Errorf("Allocate past the limit: %v, want ErrOutOfMemory naming the limit", err)
	}
	a.Reset()
	m := a.Checkpoint()
	if p := a.Alloc(limit-64, 8); p == nil {
		t.Error("Alloc of nearly the limit, after Reset, = nil")
	}
	// That gave the kept chunk back for a bigger one; the mark taken on
	// the empty arena still means its start.
	if err := a.Rewind(m); err != nil || a.AllocatedBytes() != 0 {
		t.Errorf("Rewind to the start after the chunk was replaced = %v, AllocatedBytes %d", err, a.AllocatedBytes())
	}
	if p := bump.New(bump.WithLimit(0)).Alloc(1, 1); p != nil {
		t.Errorf("Alloc under a limit of 0 = %p, want nil", p)
	}
}

func TestBuffer(t *testing.T) {
	buf := make([]byte, 4096)
	a := bump.New(bump.WithBuffer(buf))
	lo, hi := uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&buf[0]))+4096
	var n int
	for {
		p := a.Alloc(64, 16)
		if p == nil {
			break
		}
		if uintptr(p) < lo || uintptr(p)+64 > hi {
			t.Fatalf("block %p outside the buffer [%#x, %#x)", p, lo, hi)
		}
		n++
	}
	if n != 4096/64-1 {
		t.Errorf("%d blocks of 64 bytes fit in a 4096-byte buffer, want %d (all but the guard's)", n, 4096/64-1)
	}
	_, err := a.Allocate(nalloc.Layout{Size: 64, Align: 16})
	if !errors.Is(err, nalloc.ErrOutOfMemory) || !strings.Contains(err.Error(), "fixed buffer") {
		t.Errorf("Allocate in a full buffer: %v, want ErrOutOfMemory naming the buffer", err)
	}
	a.Release() // keeps the buffer
	if p := a.Alloc(64, 16); uintptr(p) != lo {
		t.Errorf("Alloc after Release = %p, want the buffer's start %#x", p, lo)
	}
	for _, size := range []int{0, 1, 15} {
		if p := bump.New(bump.WithBuffer(make([]byte, size))).Alloc(1, 1); p != nil {
			t.Errorf("Alloc(1, 1) in a %d-byte buffer = %p, want nil (no room besides the guard)", size, p)
		}
	}
}

func TestBlock(t *testing.T) {
	libc, err := glibc.Open()
	if err != nil {
		t.Fatal(err)
	}
	l := nalloc.Layout{Size: 1 << 16, Align: 64}
	mem, err := libc.Allocate(l)
	if err != nil {
		t.Fatal(err)
	}
	defer libc.Deallocate(mem, l)
	a := bump.New(bump.WithBlock(mem, l.Size))
	p := a.Alloc(1000, 64)
	if p != mem {
		t.Fatalf("first block at %p, want the block's start %p", p, mem)
	}
	if q := a.Alloc(l.Size, 1); q != nil {
		t.Fatalf("Alloc of more than the block = %p, want nil", q)
	}
}

// countingParent is a parent allocator that counts live chunks and can be
// told to refuse.
type countingParent struct {
	nalloc.Allocator
	live   int
	refuse bool
}

var errRefused = errors.New("refused on purpose")

func (c *countingParent) Allocate(l nalloc.Layout) (unsafe.Pointer, error) {
	if c.refuse {
		return nil, errRefused
	}
	p, err := c.Allocator.Allocate(l)
	if err == nil {
		c.live++
	}
	return p, err
}

func (c *countingParent) Deallocate(p unsafe.Pointer, l nalloc.Layout) {
	c.live--
	c.Allocator.Deallocate(p, l)
}

func TestParent(t *testing.T) {
	parent := &countingParent{Allocator: nalloc.NewGoHeap()}
	a := bump.New(bump.WithParent(parent), bump.WithChunkSize(1024))
	for range 100 {
		a.Alloc(100, 8)
	}
	if parent.live < 3 {
		t.Fatalf("%d chunks from the parent for 10 KB in 1 KiB chunks, want several", parent.live)
	}
	a.Reset()
	if parent.live != 1 {
		t.Errorf("after Reset the parent has %d live chunks, want 1 (the largest kept)", parent.live)
	}
	a.Release()
	if parent.live != 0 {
		t.Errorf("after Release the parent has %d live chunks, want 0", parent.live)
	}
	parent.refuse = true
	_, err := a.Allocate(nalloc.Layout{Size: 8, Align: 8})
	if !errors.Is(err, nalloc.ErrOutOfMemory) || !errors.Is(err, errRefused) {
		t.Errorf("Allocate with a refusing parent: %v, want ErrOutOfMemory wrapping the parent's error", err)
	}
	parent.refuse = false
	if p := a.Alloc(8, 8); p == nil {
		t.Error("Alloc after Release = nil")
	}
	a.Release()
}

func TestAllocMakesNoGoAllocations(t *testing.T) {
	a := bump.New()
	a.Alloc(1, 1) // the first chunk
	n := testing.AllocsPerRun(100, func() {
		for range 50 {
			if p := a.TryAlloc(64, 8); p == nil {
				a.Alloc(64, 8)
			}
		}
		a.Reset()
	})
	if n != 0 {
		t.Errorf("TryAlloc/Alloc made %v Go allocations per run, want 0", n)
	}
}

// TestAllocateZeroedAfterDirt checks zeroing where the arena's clean mark
// matters: memory given back by Deallocate, Rewind and Reset is dirty,
// memory never handed out is not.
func TestAllocateZeroedAfterDirt(t *testing.T) {
	a := bump.New(bump.WithChunkSize(4096))
	l := nalloc.Layout{Size: 1000, Align: 8}
	dirty := func(p unsafe.Pointer) {
		b := unsafe.Slice((*byte)(p), l.Size)
		for i := range b {
			b[i] = 0xee
		}
	}
	isZero := func(p unsafe.Pointer, n uintptr) bool {
		for _, c := range unsafe.Slice((*byte)(p), n) {
			if c != 0 {
				return false
			}
		}
		return true
	}
	m := a.Checkpoint()
	p, _ := a.Allocate(l)
	dirty(p)
	q, _ := a.Allocate(l)
	dirty(q)
	a.Deallocate(q, l)
	if z, _ := a.AllocateZeroed(l); !isZero(z, l.Size) {
		t.Error("AllocateZeroed after Deallocate: not zero")
	}
	_ = a.Rewind(m)
	if z, _ := a.AllocateZeroed(nalloc.Layout{Size: 3000, Align: 8}); !isZero(z, 3000) {
		t.Error("AllocateZeroed after Rewind: not zero")
	}
	a.Reset()
	z, _ := a.Allocate(nalloc.Layout{Size: 10, Align: 8})
	if g, _ := nalloc.GrowZeroed(a, z, nalloc.Layout{Size: 10, Align: 8}, nalloc.Layout{Size: 2500, Align: 8}); !isZero(unsafe.Add(g, 10), 2490) {
		t.Error("GrowZeroed after Reset: the new bytes are not zero")
	}
}

func ExampleArena() {
	a := bump.New()
	type point struct{ X, Y float64 }
	for round := range 3 {
		var sum float64
		for i := range 1000 {
			l := nalloc.LayoutOf[point]()
			p := a.TryAlloc(l.Size, l.Align) // inlined: a few instructions
			if p == nil {
				p = a.Alloc(l.Size, l.Align) // a new chunk, now and then
			}
			pt := (*point)(p)
			pt.X, pt.Y = float64(i), float64(round)
			sum += pt.X + pt.Y
		}
		fmt.Println(round, sum, a.AllocatedBytes())
		a.Reset() // every point of the round at once
	}
	// Output:
	// 0 499500 16000
	// 1 500500 16000
	// 2 501500 16000
}

func ExampleArena_Checkpoint() {
	a := bump.New()
	keep := a.Alloc(64, 8)
	m := a.Checkpoint()
	for range 100 {
		a.Alloc(256, 8) // scratch space
	}
	if err := a.Rewind(m); err != nil {
		panic(err)
	}
	fmt.Println(a.AllocatedBytes(), keep != nil)
	// Output: 64 true
}

func ExampleWithBuffer() {
	var buf [1024]byte
	a := bump.New(bump.WithBuffer(buf[:]))
	var n int
	for a.Alloc(100, 4) != nil {
		n++
	}
	_, err := a.Allocate(nalloc.Layout{Size: 100, Align: 4})
	fmt.Println(n, errors.Is(err, nalloc.ErrOutOfMemory))
	// Output: 10 true
}
