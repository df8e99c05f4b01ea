// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package jemalloc_test

import (
	"errors"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
)

func fill(p unsafe.Pointer, n uintptr, tag byte) {
	b := unsafe.Slice((*byte)(p), n)
	for i := range b {
		b[i] = tag + byte(i)
	}
}

func intact(p unsafe.Pointer, n uintptr, tag byte) bool {
	b := unsafe.Slice((*byte)(p), n)
	for i := range b {
		if b[i] != tag+byte(i) {
			return false
		}
	}
	return true
}

// TestResizeInPlace checks xallocx's promise as ResizeInPlace gives it:
// true means the block, at the same address, now has the new layout's
// size class (so Deallocate with the new layout is right); false means it
// is untouched. A fresh arena holds one block, so the pages after a large
// block are free for it to grow into.
func TestResizeInPlace(t *testing.T) {
	a := open(t)
	ar := newHeap(t)
	l := func(size, align uintptr) nalloc.Layout { return nalloc.Layout{Size: size, Align: align} }
	cases := []struct {
		name     string
		old, new nalloc.Layout
		want     bool
	}{
		{"within a small size class", l(40, 8), l(44, 8), true},
		{"to another small class", l(40, 8), l(100, 8), false},
		{"large, into free pages after it", l(64<<10, 8), l(192<<10, 8), true},
		{"large, giving back its tail", l(192<<10, 8), l(64<<10, 8), true},
		{"small to large", l(1000, 8), l(64<<10, 8), false},
		{"to an alignment the address lacks", l(48, 16), l(48, 4096), false},
	}
	for _, c := range cases {
		p, err := ar.Allocate(c.old)
		if err != nil {
			t.Fatal(err)
		}
		fill(p, c.old.Size, 3)
		realBefore := ar.UsableSize(p)
		ok, err := ar.ResizeInPlace(p, c.old, c.new)
		if err != nil {
			t.Fatal(err)
		}
		if ok != c.want {
			t.Errorf("%s: ResizeInPlace(%v -> %v) = %v, want %v", c.name, c.old, c.new, ok, c.want)
		}
		now := c.old
		if ok {
			now = c.new
		} else if got := ar.UsableSize(p); got != realBefore {
			t.Errorf("%s: a failed ResizeInPlace changed the real size from %d to %d", c.name, realBefore, got)
		}
		if got, want := ar.UsableSize(p), a.SizeClass(now); got != want {
			t.Errorf("%s: real size %d, the size class of %v is %d", c.name, got, now, want)
		}
		if !intact(p, min(c.old.Size, now.Size), 3) {
			t.Errorf("%s: contents lost", c.name)
		}
		ar.Deallocate(p, now)
	}
	bad := nalloc.Layout{Size: 8, Align: 3}
	if _, err := a.ResizeInPlace(nil, bad, bad); !errors.Is(err, nalloc.ErrInvalidLayout) {
		t.Errorf("ResizeInPlace with an invalid layout: err = %v", err)
	}
}

// TestStatsConsistent checks the Allocator's figures against each other
// and against a block's life.
func TestStatsConsistent(t *testing.T) {
	a := open(t)
	s := stats(t, a)
	if s.Allocated == 0 || s.Active < s.Allocated || s.Mapped < s.Active || s.Resident == 0 || s.Metadata == 0 {
		t.Errorf("inconsistent figures: %+v", s)
	}
	l := nalloc.Layout{Size: 16 << 20, Align: 4096}
	p, err := a.Allocate(l)
	if err != nil {
		t.Fatal(err)
	}
	fill(p, l.Size, 1)
	during := stats(t, a)
	a.Deallocate(p, l)
	// Between the two readings a thread cache may flush small blocks it
	// held (tcache GC runs on an allocation count), which jemalloc counts
	// as allocated until then: allow 1 MiB of that.
	const slack = 1 << 20
	for name, grew := range map[string]uint64{
		"Allocated": during.Allocated - s.Allocated,
		"Active":    during.Active - s.Active,
		"Mapped":    during.Mapped - s.Mapped,
	} {
		if grew < uint64(l.Size)-slack || grew > 2*uint64(l.Size) {
			t.Errorf("%s grew by %d with a %d-byte block live", name, grew, l.Size)
		}
	}
	if during.Resident < s.Resident+uint64(l.Size)/2 {
		t.Errorf("Resident went from %d to %d with %d bytes touched", s.Resident, during.Resident, l.Size)
	}
}
