// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package bump_test

import (
	"errors"
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bump"
)

// Marks nest like a stack: once the arena is rewound to a mark, every
// mark taken after it is stale, whether in a later chunk or the same one,
// even when the arena has since grown past it again. Rewinding to such a
// mark would give back blocks allocated after the rewind, and let new ones
// overlap them.
func TestRewindPastMakesLaterMarksStale(t *testing.T) {
	t.Run("later chunk", func(t *testing.T) {
		a := bump.New(bump.WithChunkSize(1024), bump.WithGrowth(bump.Constant))
		a.Alloc(100, 8)
		m0 := a.Checkpoint()
		a.Alloc(950, 8) // does not fit: a second chunk
		m1 := a.Checkpoint()
		if err := a.Rewind(m0); err != nil {
			t.Fatal(err)
		}
		a.Alloc(960, 8) // into the second chunk again, live
		if err := a.Rewind(m1); !errors.Is(err, bump.ErrStaleMark) {
			t.Fatalf("Rewind to a mark taken after the mark rewound to: %v, want ErrStaleMark", err)
		}
	})
	t.Run("same chunk", func(t *testing.T) {
		a := bump.New(bump.WithChunkSize(1024))
		a.Alloc(100, 8)
		outer := a.Checkpoint()
		a.Alloc(8, 8)
		inner := a.Checkpoint()
		if err := a.Rewind(outer); err != nil {
			t.Fatal(err)
		}
		p := a.Alloc(64, 8) // live, where inner pointed
		if err := a.Rewind(inner); !errors.Is(err, bump.ErrStaleMark) {
			t.Fatalf("Rewind(inner) after Rewind(outer): %v, want ErrStaleMark", err)
		}
		if q := a.Alloc(8, 8); uintptr(q) >= uintptr(p) && uintptr(q) < uintptr(p)+64 {
			t.Fatalf("a new block %p lies inside the live block %p", q, p)
		}
	})
	t.Run("outer stays valid", func(t *testing.T) {
		a := bump.New()
		outer := a.Checkpoint()
		for range 1000 { // a loop of inner checkpoints, as a server would do
			inner := a.Checkpoint()
			a.Alloc(64, 8)
			if err := a.Rewind(inner); err != nil {
				t.Fatal(err)
			}
		}
		a.Alloc(64, 8)
		if err := a.Rewind(outer); err != nil || a.AllocatedBytes() != 0 {
			t.Fatalf("Rewind(outer) = %v, %d bytes still allocated", err, a.AllocatedBytes())
		}
	})
}

// A mark in a first chunk that the arena gave back empty (to make room
// under its limit) still means "everything after it": here, the block
// allocated after the chunk was replaced.
func TestRewindAfterDropEmpty(t *testing.T) {
	a := bump.New(bump.WithLimit(8192))
	p := a.Alloc(50, 8)
	m := a.Checkpoint()
	a.Deallocate(p, nalloc.Layout{Size: 50, Align: 8})
	if a.Alloc(8000, 8) == nil { // the empty chunk is dropped to make room
		t.Fatal("Alloc(8000) under an 8 KiB limit failed")
	}
	if err := a.Rewind(m); err != nil || a.AllocatedBytes() != 0 {
		t.Fatalf("Rewind(m) = %v, %d bytes still allocated; want the 8000-byte block given back", err, a.AllocatedBytes())
	}
}
