// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package arrowalloc_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/arrowalloc"
	"github.com/nalloc/nalloc/bump"
)

// The tests in this file check the Allocator's own contract, the one
// arrow-go's mallocator tests set for Allocate and Reallocate, on every
// allocator; arrow_test.go drives Arrow itself.

func addr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// checkBuffer fails t unless b has length and capacity n, is aligned, and
// its bytes from zeroFrom on are zero.
func checkBuffer(t *testing.T, b []byte, n, zeroFrom int) {
	t.Helper()
	if b == nil || len(b) != n || cap(b) != n {
		t.Fatalf("buffer: nil=%v len %d cap %d, want non-nil with len and cap %d", b == nil, len(b), cap(b), n)
	}
	if addr(b)%arrowalloc.Alignment != 0 {
		t.Errorf("buffer of %d bytes at %#x: not %d-byte aligned", n, addr(b), arrowalloc.Alignment)
	}
	if err := zero(b, zeroFrom); err != nil {
		t.Fatalf("buffer of %d bytes: %v", n, err)
	}
}

// fill writes a pattern of tag over b: byte i is byte(i)^tag. holds
// checks it in the first n bytes, zero that the bytes from n on are zero.
func fill(b []byte, tag byte) {
	for i := 0; i < len(b); i += 256 {
		copy(b[i:], patterns[tag][:])
	}
}

func holds(b []byte, n int, tag byte) error {
	for i := 0; i < n; i += 256 {
		end := min(i+256, n)
		if !bytes.Equal(b[i:end], patterns[tag][:end-i]) {
			for j := i; j < end; j++ {
				if b[j] != byte(j)^tag {
					return fmt.Errorf("byte %d = %#x, want %#x", j, b[j], byte(j)^tag)
				}
			}
		}
	}
	return nil
}

func zero(b []byte, from int) error {
	for i := from; i < len(b); i += 256 {
		end := min(i+256, len(b))
		if !bytes.Equal(b[i:end], zeros[:end-i]) {
			for j := i; j < end; j++ {
				if b[j] != 0 {
					return fmt.Errorf("byte %d = %#x, want 0", j, b[j])
				}
			}
		}
	}
	return nil
}

var (
	zeros    [256]byte
	patterns = func() (p [256][256]byte) {
		for tag := range p {
			for i := range p[tag] {
				p[tag][i] = byte(i) ^ byte(tag)
			}
		}
		return p
	}()
)

var sizes = []int{0, 1, 4, 33, 63, 64, 65, 4095, 4096, 8193, 1 << 20}

func TestAllocate(t *testing.T) {
	forEachAllocator(t, false, func(t *testing.T, _ string, a nalloc.Allocator) {
		mem := arrowalloc.New(nalloc.NewChecked(a, nalloc.WithPoisonFresh(), nalloc.WithPoisonFreed()))
		for _, n := range sizes {
			// Twice, so that the second block may reuse the first's
			// poisoned memory.
			for range 2 {
				b := mem.Allocate(n)
				checkBuffer(t, b, n, 0)
				fill(b, 0xff)
				mem.Free(b)
			}
		}
		checkClean(t, mem)
	})
}

// checkClean fails t if mem's nalloc.Checked saw a misuse or still holds
// a block.
func checkClean(t *testing.T, mem *arrowalloc.Allocator) {
	t.Helper()
	c := mem.Unwrap().(*nalloc.Checked)
	if err := c.Err(); err != nil {
		t.Error(err)
	}
	if n := len(c.Leaks()); n > 0 {
		t.Errorf("%d blocks never given back", n)
	}
}

func TestReallocate(t *testing.T) {
	// The cases of arrow-go's mallocator tests, and larger ones that cross
	// size classes and reach the mmap thresholds.
	cases := []struct{ before, after int }{
		{0, 1}, {1, 0}, {1, 2}, {1, 33}, {4, 4}, {32, 16}, {32, 1},
		{64, 65}, {100, 4096}, {4096, 100}, {4096, 4096 * 3}, {1 << 20, 3 << 20}, {3 << 20, 1 << 10},
	}
	forEachAllocator(t, false, func(t *testing.T, _ string, a nalloc.Allocator) {
		mem := arrowalloc.New(nalloc.NewChecked(a, nalloc.WithPoisonFresh(), nalloc.WithPoisonFreed()))
		for _, c := range cases {
			b := mem.Allocate(c.before)
			fill(b, 0x3c)
			b = mem.Reallocate(c.after, b)
			kept := min(c.before, c.after)
			checkBuffer(t, b, c.after, kept)
			if err := holds(b, kept, 0x3c); err != nil {
				t.Errorf("Reallocate(%d) of %d bytes: %v", c.after, c.before, err)
			}
			mem.Free(b)
		}
		checkClean(t, mem)
	})
}

// TestReallocateZeroesAfterShrink checks that bytes dropped by a shrink
// come back as zero when the buffer grows again, which GoAllocator's
// reslicing does not guarantee but Arrow's calloc-based Mallocator does.
func TestReallocateZeroesAfterShrink(t *testing.T) {
	forEachAllocator(t, false, func(t *testing.T, _ string, a nalloc.Allocator) {
		mem := arrowalloc.New(a)
		b := mem.Allocate(4096)
		fill(b, 0x77)
		b = mem.Reallocate(1000, b)
		b = mem.Reallocate(4096, b)
		checkBuffer(t, b, 4096, 1000)
		if err := holds(b, 1000, 0x77); err != nil {
			t.Error(err)
		}
		mem.Free(b)
	})
}

// TestReallocateResizes checks that Reallocate resizes through Grow and
// Shrink rather than allocating anew, and that where the allocator can
// resize in place (the arena's last block) the buffer stays where it is.
func TestReallocateResizes(t *testing.T) {
	forEachAllocator(t, false, func(t *testing.T, _ string, a nalloc.Allocator) {
		c := nalloc.NewCounting(a)
		mem := arrowalloc.New(c)
		b := mem.Allocate(128)
		b = mem.Reallocate(64<<10, b)
		b = mem.Reallocate(256, b)
		b = mem.Reallocate(256, b) // same size: no call
		mem.Free(b)
		got := c.Counts()
		if got.Allocations != 1 || got.Resizes != 2 || got.Deallocations != 1 || got.LiveBytes != 0 {
			t.Errorf("counts %+v, want 1 allocation, 2 resizes, 1 deallocation, 0 live bytes", got)
		}
	})

	arena := bump.New(bump.WithChunkSize(1 << 20))
	defer arena.Release()
	mem := arrowalloc.New(arena)
	b := mem.Allocate(100)
	before := addr(b)
	b = mem.Reallocate(10_000, b)
	b = mem.Reallocate(50, b)
	if addr(b) != before {
		t.Errorf("the arena's last block moved from %#x to %#x; it grows and shrinks in place", before, addr(b))
	}
	mem.Free(b)
}

func TestEmpty(t *testing.T) {
	forEachAllocator(t, false, func(t *testing.T, _ string, a nalloc.Allocator) {
		c := nalloc.NewCounting(a)
		mem := arrowalloc.New(c)
		e := mem.Allocate(0)
		checkBuffer(t, e, 0, 0)
		mem.Free(e)
		mem.Free(nil)
		mem.Free(e[:0])
		checkBuffer(t, mem.Reallocate(0, nil), 0, 0)
		b := mem.Reallocate(100, nil) // a nil buffer is allocated afresh
		checkBuffer(t, b, 100, 0)
		e = mem.Reallocate(0, b) // and size 0 frees
		checkBuffer(t, e, 0, 0)
		b = mem.Reallocate(10, e)
		mem.Free(b[:0]) // the length may have been cut; the capacity says the size
		got := c.Counts()
		if got.Allocations != 2 || got.Deallocations != 2 || got.LiveBytes != 0 {
			t.Errorf("counts %+v, want 2 allocations and deallocations: empty buffers take no block", got)
		}
	})
}

// panicValue returns what f panicked with, or nil.
func panicValue(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
}

func TestNegativeSize(t *testing.T) {
	mem := arrowalloc.New(nalloc.NewGoHeap())
	b := mem.Allocate(64)
	defer mem.Free(b)
	for name, f := range map[string]func(){
		"Allocate":   func() { mem.Allocate(-1) },
		"Reallocate": func() { mem.Reallocate(-1, b) },
	} {
		err, _ := panicValue(f).(error)
		if !errors.Is(err, nalloc.ErrInvalidLayout) {
			t.Errorf("%s(-1) panicked with %v; want an error wrapping nalloc.ErrInvalidLayout", name, err)
		}
	}
}

// TestOutOfMemory checks the failure path on an arena with a limit: the
// panic value wraps nalloc.ErrOutOfMemory, and a failed Reallocate leaves
// the buffer as it was and still the caller's.
func TestOutOfMemory(t *testing.T) {
	arena := bump.New(bump.WithChunkSize(64<<10), bump.WithLimit(64<<10))
	defer arena.Release()
	mem := arrowalloc.New(arena)

	err, _ := panicValue(func() { mem.Allocate(1 << 20) }).(error)
	if !errors.Is(err, nalloc.ErrOutOfMemory) {
		t.Fatalf("Allocate past the limit panicked with %v; want an error wrapping nalloc.ErrOutOfMemory", err)
	}
	b := mem.Allocate(1000)
	fill(b, 0x42)
	mem.Allocate(10) // b is no longer the arena's last block: growing it must move it
	err, _ = panicValue(func() { b = mem.Reallocate(1<<20, b) }).(error)
	if !errors.Is(err, nalloc.ErrOutOfMemory) {
		t.Fatalf("Reallocate past the limit panicked with %v; want an error wrapping nalloc.ErrOutOfMemory", err)
	}
	if len(b) != 1000 {
		t.Fatalf("after the failed Reallocate the buffer has %d bytes, want its 1000", len(b))
	}
	if err := holds(b, len(b), 0x42); err != nil {
		t.Errorf("after the failed Reallocate: %v", err)
	}
	mem.Free(b)
}

// TestNoGoAllocation checks that a buffer's life on a native allocator
// costs no Go heap allocation: the slices are views of native memory.
func TestNoGoAllocation(t *testing.T) {
	forEachAllocator(t, false, func(t *testing.T, name string, a nalloc.Allocator) {
		if _, ok := a.(nalloc.Native); !ok {
			t.Skipf("%s is not a native allocator", name)
		}
		mem := arrowalloc.New(a)
		if n := testing.AllocsPerRun(100, func() {
			b := mem.Allocate(1000)
			b = mem.Reallocate(5000, b)
			b = mem.Reallocate(100, b)
			mem.Free(b)
		}); n != 0 {
			t.Errorf("%v Go heap allocations per buffer, want 0", n)
		}
	})
}

func TestNewNil(t *testing.T) {
	if v := panicValue(func() { arrowalloc.New(nil) }); v == nil {
		t.Errorf("New(nil) did not panic")
	}
}
