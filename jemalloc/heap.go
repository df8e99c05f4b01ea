// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package jemalloc

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"unsafe"

	"github.com/nalloc/nalloc"
)

// ErrHeapClosed is returned by a Heap's methods after Destroy.
var ErrHeapClosed = errors.New("jemalloc: heap destroyed")

// Heap is an nalloc.Allocator on an explicit jemalloc arena of its own
// (arenas.create): its blocks come from the arena's extents, apart from
// every other arena's, so that its memory can be measured (Stats,
// DetailedStats), returned to the OS (Purge) and released all at once
// (Destroy). A service gives each purpose (a cache, a request's buffers)
// its own Heap to see and release what that purpose holds.
//
// Calls pass MALLOCX_ARENA(i) | MALLOCX_TCACHE_NONE: no thread cache
// holds a Heap's blocks, so what is freed goes straight back to the
// arena, its statistics are exact, and Destroy leaves no cached pointer
// behind. The cost is that each call takes the arena's bin lock: a
// Heap's Allocate+Deallocate is slower than the Allocator's (see the
// package doc for the figures).
//
// A Heap is safe for concurrent use; Destroy waits for calls in
// progress. Blocks must be given back to the Heap they came from (never
// to the Allocator, whose thread cache would keep them past Destroy). A
// Heap is not garbage collected: its memory stays until Destroy, even
// when the *Heap is unreachable. Get one from Allocator.NewHeap; the
// zero value is not usable, and a Heap must not be copied.
type Heap struct {
	a     *Allocator
	index uint32
	flags uintptr // MALLOCX_ARENA(index) | MALLOCX_TCACHE_NONE
	name  string  // "jemalloc heap (arena 12)", for errors

	// mu is held for reading by every call into the arena and for
	// writing by Destroy, so that no call reaches jemalloc with an arena
	// index that Destroy has freed (arenas.create recycles indices, and
	// mallocx would silently re-create a missing arena).
	mu        sync.RWMutex
	destroyed bool
}

// NewHeap creates a Heap on a new arena (arenas.create) with jemalloc's
// default extent hooks and decay settings. Destroy it when done: it is not
// freed otherwise. jemalloc allows 4095 arenas in all, automatic ones
// included.
func (a *Allocator) NewHeap() (*Heap, error) {
	i, err := Mallctl[uint32](a, "arenas.create")
	if err != nil {
		return nil, err
	}
	return &Heap{
		a:     a,
		index: i,
		flags: uintptr(i+1)<<flagArenaShift | flagTcacheNone,
		name:  "jemalloc heap (arena " + strconv.FormatUint(uint64(i), 10) + ")",
	}, nil
}

// Index is the number of the Heap's arena, for mallctls such as
// "arena.<i>.dirty_decay_ms". After Destroy, jemalloc may give the number
// to a new arena.
func (h *Heap) Index() uint32 { return h.index }

func (h *Heap) errDestroyed() error {
	return fmt.Errorf("%w: %s was destroyed; its blocks were freed with it", ErrHeapClosed, h.name)
}

// Allocate returns a block from the heap's arena (mallocx with the
// arena's flags). Give it back to this Heap with Deallocate.
func (h *Heap) Allocate(l nalloc.Layout) (unsafe.Pointer, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.destroyed {
		return nil, h.errDestroyed()
	}
	return h.a.allocate(l, h.flags, h.name)
}

// AllocateZeroed is Allocate with MALLOCX_ZERO.
func (h *Heap) AllocateZeroed(l nalloc.Layout) (unsafe.Pointer, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.destroyed {
		return nil, h.errDestroyed()
	}
	return h.a.allocate(l, h.flags|flagZero, h.name)
}

// Deallocate gives a block back to the arena (sdallocx with l, as
// the Allocator's). After Destroy it does nothing: the block was
// freed with the heap.
func (h *Heap) Deallocate(p unsafe.Pointer, l nalloc.Layout) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if !h.destroyed {
		h.a.deallocate(p, l, h.flags)
	}
}

// Grow enlarges a block as Allocator.Grow does; a block that moves moves
// within the arena.
func (h *Heap) Grow(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	return h.resize(p, old, new, true, false)
}

// GrowZeroed is Grow with the new bytes zeroed, as Allocator.GrowZeroed.
func (h *Heap) GrowZeroed(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	return h.resize(p, old, new, true, true)
}

// Shrink reduces a block as Allocator.Shrink does.
func (h *Heap) Shrink(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	return h.resize(p, old, new, false, false)
}

func (h *Heap) resize(p unsafe.Pointer, old, new nalloc.Layout, grow, zero bool) (unsafe.Pointer, error) {
	var err error
	if grow {
		err = nalloc.ValidateGrow(old, new)
	} else {
		err = nalloc.ValidateShrink(old, new)
	}
	if err != nil {
		return nil, err
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.destroyed {
		return nil, h.errDestroyed()
	}
	return h.a.resize(p, old, new, h.flags, zero, h.name)
}

// ResizeInPlace is Allocator.ResizeInPlace for the arena's blocks. After
// Destroy it returns false and ErrHeapClosed.
func (h *Heap) ResizeInPlace(p unsafe.Pointer, old, new nalloc.Layout) (bool, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.destroyed {
		return false, h.errDestroyed()
	}
	return h.a.resizeInPlace(p, old, new, h.flags)
}

// UsableSize returns the block's real size (sallocx), or 0 after
// Destroy.
func (h *Heap) UsableSize(p unsafe.Pointer) uintptr {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.destroyed {
		return 0
	}
	return h.a.call(0, h.a.sallocx, uintptr(p), 0, 0, 0)
}

// Purge returns the heap's unused dirty pages to the OS at once
// (arena.<i>.purge), instead of when their decay time (opt.dirty_decay_ms,
// 10 s by default) runs out. Live blocks are untouched. DetailedStats shows
// the effect: Dirty drops to 0, and Resident by as much.
func (h *Heap) Purge() error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.destroyed {
		return h.errDestroyed()
	}
	return h.a.MallctlDo("arena." + strconv.FormatUint(uint64(h.index), 10) + ".purge")
}

// Destroy frees every block of the heap and its arena at once
// (arena.<i>.destroy): its pages go back to the OS and its address space
// is unmapped. Blocks from the heap must not be used afterwards; the
// Heap's methods return ErrHeapClosed (Deallocate does nothing).
// Destroy waits for calls in progress on other goroutines. A second
// Destroy returns ErrHeapClosed. If jemalloc refuses (EFAULT: a
// thread was bound to the arena with the thread.arena mallctl), the Heap
// stays usable.
func (h *Heap) Destroy() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.destroyed {
		return h.errDestroyed()
	}
	if err := h.a.MallctlDo("arena." + strconv.FormatUint(uint64(h.index), 10) + ".destroy"); err != nil {
		return err
	}
	h.destroyed = true
	return nil
}

// HeapStats is a Heap's own figures, from stats.arenas.<i>.* of its
// arena, in bytes. Page counts are converted with arenas.page.
type HeapStats struct {
	// Stats is what Heap.Stats reports:
	//
	//   - Allocated: Small + Large.
	//   - Active: pactive pages, those holding live blocks.
	//   - Resident: resident, the arena's active and dirty pages and
	//     metadata (a maximum, as for the Allocator).
	//   - Mapped: mapped, the extents for active, dirty and muzzy pages.
	//   - Retained: retained, address space kept after its pages went
	//     back to the OS.
	//   - Metadata: base + internal.
	nalloc.Stats
	Small uint64 // small.allocated: live blocks in slab size classes (up to 14 KiB)
	Large uint64 // large.allocated: live blocks of large size classes
	Dirty uint64 // pdirty pages: freed, not yet returned to the OS; Purge returns them
	Muzzy uint64 // pmuzzy pages: returned with MADV_FREE, reclaimable by the OS
}

// DetailedStats returns the heap's figures after an epoch bump (ten
// mallctl calls on the slow path).
func (h *Heap) DetailedStats() (HeapStats, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var s HeapStats
	if h.destroyed {
		return s, h.errDestroyed()
	}
	if err := h.a.refresh(); err != nil {
		return s, err
	}
	var active, dirty, muzzy, base, internal uint64
	err := h.a.readAll("stats.arenas."+strconv.FormatUint(uint64(h.index), 10)+".",
		[]string{"small.allocated", "large.allocated", "pactive", "pdirty", "pmuzzy",
			"resident", "mapped", "retained", "base", "internal"},
		[]*uint64{&s.Small, &s.Large, &active, &dirty, &muzzy,
			&s.Resident, &s.Mapped, &s.Retained, &base, &internal})
	if err != nil {
		return s, err
	}
	page := h.a.page
	s.Allocated = s.Small + s.Large
	s.Active, s.Dirty, s.Muzzy = active*page, dirty*page, muzzy*page
	s.Metadata = base + internal
	return s, nil
}

// Stats implements nalloc.StatsReporter with the heap's figures; see
// DetailedStats.
func (h *Heap) Stats() (nalloc.Stats, error) {
	s, err := h.DetailedStats()
	return s.Stats, err
}
