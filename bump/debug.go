// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package bump

import (
	"fmt"
	"unsafe"

	"github.com/nalloc/nalloc/internal/invariants"
)

// poisonUsed fills what was handed out in chunks[from:to] with the poison
// byte, in builds with the nalloc_invariants tag.
func (a *Arena) poisonUsed(from, to int) {
	if !invariants.Enabled || a.end == nil {
		return
	}
	for i := from; i < to && i <= a.cur; i++ { // spares are empty
		a.poison(a.chunks[i].start, a.chunks[i].start+a.usedOf(i))
	}
}

// poison is the byte that fills memory the arena takes back, in builds
// with the nalloc_invariants tag (jemalloc's junk byte for freed memory).
const poisonByte = 0x5a

// poison fills [from, to) of the current chunk with poisonByte, in builds
// with the nalloc_invariants tag.
func (a *Arena) poison(from, to uintptr) {
	if !invariants.Enabled || to <= from {
		return
	}
	for i := range a.chunks {
		c := &a.chunks[i]
		if from >= c.start && to <= c.end {
			b := unsafe.Slice((*byte)(unsafe.Add(c.base, from-c.start)), to-from)
			for j := range b {
				b[j] = poisonByte
			}
			return
		}
	}
	panic(fmt.Sprintf("bump: invariant: poisoning [%#x, %#x) outside every chunk", from, to))
}

// check verifies the arena's bookkeeping, in builds with the
// nalloc_invariants tag.
func (a *Arena) check() {
	if !invariants.Enabled {
		return
	}
	fail := func(format string, args ...any) {
		panic(fmt.Sprintf("bump: invariant: "+format, args...))
	}
	var held, past uintptr
	for i, c := range a.chunks {
		held += c.size
		if c.end < c.start || c.end >= c.start+c.size || c.end%fastAlign != 0 {
			fail("chunk %d: usable [%#x, %#x) of region [%#x, +%d)", i, c.start, c.end, c.start, c.size)
		}
		if c.dirty < c.start || c.dirty > c.end {
			fail("chunk %d: dirty mark %#x outside [%#x, %#x]", i, c.dirty, c.start, c.end)
		}
		if i < a.cur {
			past += c.used
		}
	}
	if held != a.held || (!a.fixed && held > a.limit) {
		fail("held %d, chunks hold %d, limit %d", a.held, held, a.limit)
	}
	if past != a.past {
		fail("past %d, chunks before the current one hold %d", a.past, past)
	}
	if a.end == nil {
		if a.rem != 0 {
			fail("no current chunk, rem %d", a.rem)
		}
		return
	}
	c := a.chunks[a.cur]
	if uintptr(a.end) != c.end || a.rem > c.end-c.start {
		fail("current chunk %d: end %p rem %d, chunk [%#x, %#x)", a.cur, a.end, a.rem, c.start, c.end)
	}
}
