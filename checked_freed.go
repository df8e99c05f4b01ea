// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import "unsafe"

// Checked remembers the blocks it saw given back, up to WithFreedMemory of
// them, so that a second free of one is told apart from a pointer it never
// saw: freed maps each address to what is known of it, and ring keeps the
// addresses in the order they were freed, to forget the oldest first.

// freedBlock is what Checked knows of a block given back.
type freedBlock struct {
	l            Layout
	alloc, freed stackID
	seq          uint64 // of the free, to match ring entries
	by           string // the call that gave it back
}

// ringEntry is one free in the ring; seq tells whether freed still holds
// that free or a later one at the same address.
type ringEntry struct {
	addr uintptr
	seq  uint64
}

// remember adds p, given back by the call op at stack st, to the memory of
// freed blocks, forgetting the oldest one if it is full. c.mu is held.
func (c *Checked) remember(p unsafe.Pointer, b liveBlock, st stackID, op string) {
	if c.freedCap == 0 {
		return
	}
	if b.l.Size == 0 {
		if _, live := c.live.Get(keyOf(p, b.l)); live {
			return // another zero-size block at the same address is still live
		}
	}
	c.seq++
	c.freed.Put(uintptr(p), freedBlock{l: b.l, alloc: b.stack, freed: st, seq: c.seq, by: op})
	e := ringEntry{uintptr(p), c.seq}
	if len(c.ring) < c.freedCap {
		c.ring = append(c.ring, e)
		return
	}
	old := c.ring[c.head]
	if f, ok := c.freed.Get(old.addr); ok && f.seq == old.seq {
		c.freed.Delete(old.addr)
	}
	c.ring[c.head] = e
	c.head = (c.head + 1) % len(c.ring)
}
