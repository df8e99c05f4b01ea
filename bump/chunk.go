// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package bump

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/invariants"
	"github.com/nalloc/nalloc/internal/sysmem"
)

// setFixed makes the region of size bytes at p the arena's only chunk.
func (a *Arena) setFixed(p unsafe.Pointer, size uintptr) {
	a.chunks, a.cur, a.end, a.rem, a.held = a.chunks[:0], 0, nil, 0, 0
	if p == nil || size == 0 {
		return
	}
	c := newChunk(p, size, fromCaller)
	if c.end < c.start {
		return // too small to hold an aligned end inside it
	}
	a.ids++
	c.id = a.ids
	a.chunks = append(a.chunks, c)
	a.held = size
	a.enter(0)
}

// newChunk describes the region of size bytes at p.
func newChunk(p unsafe.Pointer, size uintptr, from source) chunk {
	start := uintptr(p)
	c := chunk{base: p, size: size, start: start, from: from}
	// The last byte of the region is at start+size-1; the usable end is
	// that rounded down to fastAlign, so it lies inside the region (and
	// is never handed out: the fast path's blocks end at or below it).
	c.end = (start + size - 1) &^ (fastAlign - 1)
	c.dirty = start
	if from != fromGo {
		c.dirty = c.end // unknown contents
	}
	return c
}

// enter makes chunks[i] the current chunk, empty.
func (a *Arena) enter(i int) {
	c := &a.chunks[i]
	c.before = a.past
	a.cur = i
	a.end = unsafe.Add(c.base, c.end-c.start)
	a.rem = c.end - c.start
	a.switches++
}

// pos is the bump position in the current chunk (0 with no chunk).
func (a *Arena) pos() uintptr { return uintptr(a.end) - a.rem }

// leave records, before the bump position moves back or the arena moves
// to another chunk, how far the current chunk has been handed out.
func (a *Arena) leave() {
	if a.end == nil {
		return
	}
	c := &a.chunks[a.cur]
	c.dirty = max(c.dirty, a.pos())
}

// allocSlow is Alloc past the fast path.
func (a *Arena) allocSlow(size, align uintptr) unsafe.Pointer {
	if align == 0 || align&(align-1) != 0 {
		return nil
	}
	if p := a.fit(size, align); p != nil {
		return p
	}
	if !a.nextChunk(size, align) {
		return nil
	}
	p := a.fit(size, align)
	if p == nil && invariants.Enabled {
		// chunkNeed counts on a chunk aligned to fastAlign, which the
		// parent was asked for and the Go heap gives.
		panic(fmt.Sprintf("bump: invariant: a new chunk %+v does not fit %d bytes at %d", a.chunks[a.cur], size, align))
	}
	return p
}

// fit allocates from the current chunk at any alignment, or returns nil.
func (a *Arena) fit(size, align uintptr) unsafe.Pointer {
	if a.end == nil {
		return nil
	}
	end := uintptr(a.end)
	pos := end - a.rem
	p := (pos + align - 1) &^ (align - 1)
	if p < pos || p > end || size > end-p {
		return nil
	}
	a.rem = end - p - size
	return unsafe.Add(a.end, -int(end-p))
}

// fits reports whether an empty chunk c has room for the request.
func (c *chunk) fits(size, align uintptr) bool {
	p := (c.start + align - 1) &^ (align - 1)
	return p >= c.start && p <= c.end && size <= c.end-p
}

// chunkNeed returns the smallest chunk size (a multiple of fastAlign) that
// is sure to fit size bytes at align whatever fastAlign-aligned address
// the chunk starts at, or false if that overflows.
func chunkNeed(size, align uintptr) (uintptr, bool) {
	slack := uintptr(fastAlign) // the guard: the usable end lies below the region's end
	if align > fastAlign {
		slack += align - fastAlign // the first aligned address past the start
	}
	if size > math.MaxUint-slack-fastAlign {
		return 0, false
	}
	return (size+fastAlign-1)&^(fastAlign-1) + slack, true
}

// nextChunk makes current a chunk that fits the request: a spare, or a new
// one from the parent or the Go heap. It returns false, with a.failure
// set, if there is none to be had.
func (a *Arena) nextChunk(size, align uintptr) bool {
	if a.fixed {
		a.failure = failFixed
		return false
	}
	need, ok := chunkNeed(size, align)
	if !ok {
		a.failure = failSize
		return false
	}
	// A spare left by Rewind, if one is big enough.
	for i := a.cur + 1; i < len(a.chunks); i++ {
		if a.chunks[i].fits(size, align) {
			a.leaveChunk()
			a.chunks[a.cur+1], a.chunks[i] = a.chunks[i], a.chunks[a.cur+1]
			a.enter(a.cur + 1)
			a.check()
			return true
		}
	}
	c, ok := a.newChunk(need)
	if !ok {
		return false
	}
	a.leaveChunk()
	next := a.cur + 1
	if a.end == nil {
		next = 0 // no chunk yet, or none left after dropEmpty
	}
	a.chunks = append(a.chunks, chunk{})
	copy(a.chunks[next+1:], a.chunks[next:])
	a.ids++
	c.id = a.ids
	a.chunks[next] = c
	a.held += c.size
	a.enter(next)
	a.check()
	return true
}

// leaveChunk closes the current chunk before the arena moves past it.
func (a *Arena) leaveChunk() {
	if a.end == nil {
		return
	}
	a.leave()
	c := &a.chunks[a.cur]
	c.used = a.pos() - c.start
	a.past += c.used
}

// newChunk gets a chunk of at least need bytes: the growth policy's size
// if the parent (or the Go heap) and the limit allow it, else need.
//
// The policy's sequence advances by its own sizes, and only when it gets
// a chunk that large: a chunk made to measure for one large request does
// not make the next chunk twice as large as it (bumpalo's would), and a
// refused 2^62-byte request, or a chunk clipped by the limit, leaves the
// sequence where it was.
func (a *Arena) newChunk(need uintptr) (chunk, bool) {
	policy := a.next &^ (fastAlign - 1)
	size := max(policy, need)
	if a.held > a.limit || size > a.limit-a.held {
		a.dropEmpty()
	}
	if room := a.limit - min(a.held, a.limit); size > room {
		size = room &^ (fastAlign - 1)
		if size < need {
			a.failure = failLimit
			return chunk{}, false
		}
	}
	c, ok := a.obtain(size)
	if !ok && size > need {
		c, ok = a.obtain(need) // the parent may have room for less
	}
	if ok && c.size >= policy && a.growth == Double && a.next <= math.MaxUint/4 {
		a.next *= 2
	}
	return c, ok
}

// dropEmpty gives back the chunks that hold no block, to make room under
// the limit: the spares, and the current chunk too if the arena holds no
// block at all (after Reset, which keeps the largest chunk, a request of
// nearly the limit could not be met otherwise).
func (a *Arena) dropEmpty() {
	if a.end == nil {
		return
	}
	a.releaseChunks(a.chunks[a.cur+1:])
	a.chunks = a.chunks[:a.cur+1]
	if a.cur == 0 && a.pos() == a.chunks[0].start {
		a.droppedFirst = append(a.droppedFirst, a.chunks[0].id)
		a.releaseChunks(a.chunks)
		a.chunks = a.chunks[:0]
		a.end, a.rem = nil, 0
	}
}

// obtain gets size bytes from the parent or the Go heap.
func (a *Arena) obtain(size uintptr) (chunk, bool) {
	if a.parent != nil {
		p, err := a.parent.Allocate(nalloc.Layout{Size: size, Align: fastAlign})
		if err != nil {
			a.failure, a.parentErr = failParent, err
			return chunk{}, false
		}
		return newChunk(p, size, fromParent), true
	}
	if uint64(size) > sysmem.MaxGoAlloc() {
		a.failure = failGo
		return chunk{}, false
	}
	// A pointer-free byte slice: the collector never scans it, and base,
	// which points at its first byte, keeps it alive. Go aligns slices of
	// 32 bytes and more to 16 (their size classes are multiples of 16),
	// and newChunk does not rely on it anyway.
	buf := make([]byte, size)
	return newChunk(unsafe.Pointer(unsafe.SliceData(buf)), size, fromGo), true
}

// oom is the error of a failed allocation of l.
func (a *Arena) oom(l nalloc.Layout) error {
	err := nalloc.OutOfMemory("bump", l)
	switch a.failure {
	case failLimit:
		return fmt.Errorf("%w: the arena holds %d bytes of its limit of %d", err, a.held, a.limit)
	case failParent:
		return fmt.Errorf("%w: the parent allocator refused a chunk: %w", err, a.parentErr)
	case failGo:
		return fmt.Errorf("%w: more than the machine's memory (%d bytes)", err, sysmem.MaxGoAlloc())
	case failFixed:
		return fmt.Errorf("%w: the fixed buffer of %d bytes has %d left", err, a.held, a.rem)
	case failSize:
		return fmt.Errorf("%w: the size overflows once aligned", err)
	}
	return err
}
