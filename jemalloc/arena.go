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

// ErrArenaDestroyed is returned by an Arena's methods after Destroy.
var ErrArenaDestroyed = errors.New("jemalloc: arena destroyed")

// Arena is an explicit jemalloc arena (arenas.create) as an
// nalloc.Allocator: its blocks come from its own extents, apart from
// every other arena's, so that its memory can be measured (Stats,
// ArenaStats), returned to the OS (Purge) and released all at once
// (Destroy). A service gives each purpose (a cache, a request's buffers)
// its own Arena to see and release what that purpose holds.
//
// Calls pass MALLOCX_ARENA(i) | MALLOCX_TCACHE_NONE: no thread cache
// holds an Arena's blocks, so what is freed goes straight back to the
// arena, its statistics are exact, and Destroy leaves no cached pointer
// behind. The cost is that each call takes the arena's bin lock: an
// Arena's Allocate+Deallocate is slower than the Allocator's (see the
// package doc for the figures).
//
// An Arena is safe for concurrent use; Destroy waits for calls in
// progress. Blocks must be given back to the Arena they came from (never
// to the Allocator, whose thread cache would keep them past Destroy). An
// Arena is not garbage collected: its memory stays until Destroy, even
// when the *Arena is unreachable. Get one from Allocator.NewArena; the
// zero value is not usable, and an Arena must not be copied.
type Arena struct {
	a     *Allocator
	index uint32
	flags uintptr // MALLOCX_ARENA(index) | MALLOCX_TCACHE_NONE
	name  string  // "jemalloc arena 12", for errors

	// mu is held for reading by every call into the arena and for
	// writing by Destroy, so that no call reaches jemalloc with an arena
	// index that Destroy has freed (arenas.create recycles indices, and
	// mallocx would silently re-create a missing arena).
	mu        sync.RWMutex
	destroyed bool
}

// NewArena creates an arena (arenas.create) with jemalloc's default
// extent hooks and decay settings. Destroy it when done: it is not freed
// otherwise. jemalloc allows 4095 arenas in all, automatic ones included.
func (a *Allocator) NewArena() (*Arena, error) {
	i, err := Mallctl[uint32](a, "arenas.create")
	if err != nil {
		return nil, err
	}
	return &Arena{
		a:     a,
		index: i,
		flags: uintptr(i+1)<<flagArenaShift | flagTcacheNone,
		name:  "jemalloc arena " + strconv.FormatUint(uint64(i), 10),
	}, nil
}

// Index is the arena's number, for mallctls such as
// "arena.<i>.dirty_decay_ms". After Destroy, jemalloc may give the number
// to a new arena.
func (ar *Arena) Index() uint32 { return ar.index }

func (ar *Arena) errDestroyed() error {
	return fmt.Errorf("%w: %s was destroyed; its blocks were freed with it", ErrArenaDestroyed, ar.name)
}

// Allocate returns a block from the arena (mallocx with the arena's
// flags). Give it back to this Arena with Deallocate.
func (ar *Arena) Allocate(l nalloc.Layout) (unsafe.Pointer, error) {
	ar.mu.RLock()
	defer ar.mu.RUnlock()
	if ar.destroyed {
		return nil, ar.errDestroyed()
	}
	return ar.a.allocate(l, ar.flags, ar.name)
}

// AllocateZeroed is Allocate with MALLOCX_ZERO.
func (ar *Arena) AllocateZeroed(l nalloc.Layout) (unsafe.Pointer, error) {
	ar.mu.RLock()
	defer ar.mu.RUnlock()
	if ar.destroyed {
		return nil, ar.errDestroyed()
	}
	return ar.a.allocateZeroed(l, ar.flags, ar.name)
}

// Deallocate gives a block back to the arena (sdallocx with l, as
// Allocator.Deallocate). After Destroy it does nothing: the block was
// freed with the arena.
func (ar *Arena) Deallocate(p unsafe.Pointer, l nalloc.Layout) {
	ar.mu.RLock()
	defer ar.mu.RUnlock()
	if !ar.destroyed {
		ar.a.deallocate(p, l, ar.flags)
	}
}

// Grow enlarges a block as Allocator.Grow does; a block that moves moves
// within the arena.
func (ar *Arena) Grow(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	return ar.resize(p, old, new, true, false)
}

// GrowZeroed is Grow with the new bytes zeroed, as Allocator.GrowZeroed.
func (ar *Arena) GrowZeroed(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	return ar.resize(p, old, new, true, true)
}

// Shrink reduces a block as Allocator.Shrink does.
func (ar *Arena) Shrink(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	return ar.resize(p, old, new, false, false)
}

func (ar *Arena) resize(p unsafe.Pointer, old, new nalloc.Layout, grow, zero bool) (unsafe.Pointer, error) {
	var err error
	if grow {
		err = nalloc.ValidateGrow(old, new)
	} else {
		err = nalloc.ValidateShrink(old, new)
	}
	if err != nil {
		return nil, err
	}
	ar.mu.RLock()
	defer ar.mu.RUnlock()
	if ar.destroyed {
		return nil, ar.errDestroyed()
	}
	return ar.a.resize(p, old, new, ar.flags, zero, ar.name)
}

// ResizeInPlace is Allocator.ResizeInPlace for the arena's blocks. After
// Destroy it returns false and ErrArenaDestroyed.
func (ar *Arena) ResizeInPlace(p unsafe.Pointer, old, new nalloc.Layout) (bool, error) {
	ar.mu.RLock()
	defer ar.mu.RUnlock()
	if ar.destroyed {
		return false, ar.errDestroyed()
	}
	return ar.a.resizeInPlace(p, old, new, ar.flags)
}

// UsableSize returns the block's real size (sallocx), or 0 after
// Destroy.
func (ar *Arena) UsableSize(p unsafe.Pointer) uintptr {
	ar.mu.RLock()
	defer ar.mu.RUnlock()
	if ar.destroyed {
		return 0
	}
	return ar.a.usableSize(p)
}

// Purge returns the arena's unused dirty pages to the OS at once
// (arena.<i>.purge), instead of when their decay time (opt.dirty_decay_ms,
// 10 s by default) runs out. Live blocks are untouched. ArenaStats shows
// the effect: Dirty drops to 0, and Resident by as much.
func (ar *Arena) Purge() error {
	ar.mu.RLock()
	defer ar.mu.RUnlock()
	if ar.destroyed {
		return ar.errDestroyed()
	}
	return ar.a.MallctlDo("arena." + strconv.FormatUint(uint64(ar.index), 10) + ".purge")
}

// Destroy frees every block of the arena and the arena itself at once
// (arena.<i>.destroy): its pages go back to the OS and its address space
// is unmapped. Blocks from the arena must not be used afterwards; the
// Arena's methods return ErrArenaDestroyed (Deallocate does nothing).
// Destroy waits for calls in progress on other goroutines. A second
// Destroy returns ErrArenaDestroyed. If jemalloc refuses (EFAULT: a
// thread was bound to the arena with the thread.arena mallctl), the Arena
// stays usable.
func (ar *Arena) Destroy() error {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	if ar.destroyed {
		return ar.errDestroyed()
	}
	if err := ar.a.MallctlDo("arena." + strconv.FormatUint(uint64(ar.index), 10) + ".destroy"); err != nil {
		return err
	}
	ar.destroyed = true
	return nil
}

// ArenaStats is an arena's own figures, from stats.arenas.<i>.*, in
// bytes. Page counts are converted with arenas.page.
type ArenaStats struct {
	// Stats is what Arena.Stats reports:
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

// ArenaStats returns the arena's figures after an epoch bump (ten
// mallctl calls on the blocking path).
func (ar *Arena) ArenaStats() (ArenaStats, error) {
	ar.mu.RLock()
	defer ar.mu.RUnlock()
	var s ArenaStats
	if ar.destroyed {
		return s, ar.errDestroyed()
	}
	if err := ar.a.refresh(); err != nil {
		return s, err
	}
	var active, dirty, muzzy, base, internal uint64
	err := ar.a.readAll("stats.arenas."+strconv.FormatUint(uint64(ar.index), 10)+".",
		[]string{"small.allocated", "large.allocated", "pactive", "pdirty", "pmuzzy",
			"resident", "mapped", "retained", "base", "internal"},
		[]*uint64{&s.Small, &s.Large, &active, &dirty, &muzzy,
			&s.Resident, &s.Mapped, &s.Retained, &base, &internal})
	if err != nil {
		return s, err
	}
	page := ar.a.page
	s.Allocated = s.Small + s.Large
	s.Active, s.Dirty, s.Muzzy = active*page, dirty*page, muzzy*page
	s.Metadata = base + internal
	return s, nil
}

// Stats implements nalloc.StatsReporter with the arena's figures; see
// ArenaStats.
func (ar *Arena) Stats() (nalloc.Stats, error) {
	s, err := ar.ArenaStats()
	return s.Stats, err
}
