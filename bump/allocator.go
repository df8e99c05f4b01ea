// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package bump

import (
	"unsafe"

	"github.com/nalloc/nalloc"
)

// Allocate implements nalloc.Allocator: a block of l.Size bytes aligned
// to l.Align, valid until Reset, Rewind or Release. Any power-of-two
// alignment works; up to 16 takes the fast path.
func (a *Arena) Allocate(l nalloc.Layout) (unsafe.Pointer, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	if p := a.TryAlloc(l.Size, l.Align); p != nil {
		return p, nil
	}
	if p := a.allocSlow(l.Size, l.Align); p != nil {
		return p, nil
	}
	return nil, a.oom(l)
}

// AllocateZeroed implements nalloc.ZeroAllocator. Memory the arena has not
// handed out since its chunk came zeroed from the Go heap is not cleared
// again.
func (a *Arena) AllocateZeroed(l nalloc.Layout) (unsafe.Pointer, error) {
	sw, clean := a.switches, a.cleanFrom()
	p, err := a.Allocate(l)
	if err != nil {
		return nil, err
	}
	a.clearDirty(p, l.Size, sw, clean)
	return p, nil
}

// cleanFrom returns the address from which the current chunk's memory is
// known to be zero (0 with no chunk).
func (a *Arena) cleanFrom() uintptr {
	if a.end == nil {
		return 0
	}
	return max(a.chunks[a.cur].dirty, a.pos())
}

// clearDirty zeroes what may be dirty in the n bytes at p, a block just
// allocated in the current chunk. clean is cleanFrom from before the
// allocation, valid if the chunk has not changed since (switches is sw).
func (a *Arena) clearDirty(p unsafe.Pointer, n uintptr, sw uint64, clean uintptr) {
	if a.switches != sw {
		clean = a.chunks[a.cur].dirty
	}
	if dirty := min(uintptr(p)+n, clean); dirty > uintptr(p) {
		clear(unsafe.Slice((*byte)(p), dirty-uintptr(p)))
	}
}

// Deallocate implements nalloc.Allocator. If p is the most recent block,
// its space is given back; otherwise nothing happens until Reset.
func (a *Arena) Deallocate(p unsafe.Pointer, l nalloc.Layout) {
	if p == nil || !a.isLast(p, l.Size) {
		return
	}
	a.leave()
	a.poison(uintptr(p), uintptr(p)+l.Size)
	a.rem += l.Size
}

// isLast reports whether the block of size bytes at p ends at the bump
// position of the current chunk: the most recent block, or one whose
// successors were all given back.
func (a *Arena) isLast(p unsafe.Pointer, size uintptr) bool {
	return a.end != nil && uintptr(p) >= a.chunks[a.cur].start && uintptr(p)+size == a.pos()
}

// Grow implements nalloc.Allocator. The most recent block grows in place,
// keeping its address, when the chunk has room and the block is aligned
// for new; other blocks move to a new block, and their old space waits
// for Reset.
func (a *Arena) Grow(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	if err := nalloc.ValidateGrow(old, new); err != nil {
		return nil, err
	}
	return a.resize(p, old, new)
}

// GrowZeroed implements nalloc.ZeroGrower: Grow, with the new bytes zero,
// cleared only where the chunk's memory may be dirty.
func (a *Arena) GrowZeroed(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	if err := nalloc.ValidateGrow(old, new); err != nil {
		return nil, err
	}
	sw, clean := a.switches, a.cleanFrom()
	q, err := a.resize(p, old, new)
	if err != nil {
		return nil, err
	}
	a.clearDirty(unsafe.Add(q, old.Size), new.Size-old.Size, sw, clean)
	return q, nil
}

// Shrink implements nalloc.Allocator. A block aligned for new stays where
// it is; if it is the most recent one, the freed tail is given back.
func (a *Arena) Shrink(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	if err := nalloc.ValidateShrink(old, new); err != nil {
		return nil, err
	}
	if uintptr(p)%new.Align == 0 && !a.isLast(p, old.Size) {
		return p, nil
	}
	return a.resize(p, old, new)
}

func (a *Arena) resize(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	if uintptr(p)%new.Align == 0 && a.isLast(p, old.Size) && new.Size <= uintptr(a.end)-uintptr(p) {
		if new.Size < old.Size {
			a.leave()
			a.poison(uintptr(p)+new.Size, uintptr(p)+old.Size)
		}
		a.rem = uintptr(a.end) - uintptr(p) - new.Size
		return p, nil
	}
	q := a.Alloc(new.Size, new.Align)
	if q == nil {
		return nil, a.oom(new)
	}
	if n := min(old.Size, new.Size); n > 0 {
		copy(unsafe.Slice((*byte)(q), n), unsafe.Slice((*byte)(p), n))
	}
	return q, nil
}

// Stats implements nalloc.StatsReporter:
//
//   - Allocated: AllocatedBytes.
//   - Active: the bytes of the chunks in use (all but the spares).
//   - Mapped: the bytes of every chunk held, spares included: what the
//     limit counts.
//   - Metadata: the Arena and its chunk list.
//   - Resident and Retained: 0; the arena cannot see them.
func (a *Arena) Stats() (nalloc.Stats, error) {
	var active uintptr
	if a.end != nil {
		for _, c := range a.chunks[:a.cur+1] {
			active += c.size
		}
	}
	return nalloc.Stats{
		Allocated: uint64(a.AllocatedBytes()),
		Active:    uint64(active),
		Mapped:    uint64(a.held),
		Metadata:  uint64(unsafe.Sizeof(*a) + uintptr(cap(a.chunks))*unsafe.Sizeof(chunk{})),
	}, nil
}
