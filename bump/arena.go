// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package bump

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/invariants"
	"github.com/nalloc/nalloc/internal/nocopy"
)

func init() {
	nalloc.Register("bump", func() (nalloc.Allocator, error) { return New(), nil })
}

// ErrStaleMark is returned by Rewind for a Mark the arena can no longer go
// back to: one taken before a Reset or Release, or in a chunk the arena
// has since rewound past.
var ErrStaleMark = errors.New("bump: stale mark")

const (
	// fastAlign is what the usable end of every chunk is aligned to, and
	// so the largest alignment TryAlloc serves.
	fastAlign = 16
	// defaultChunkSize is the size of the first chunk.
	defaultChunkSize = 4 << 10
	// minChunkSize is the smallest chunk asked for.
	minChunkSize = 64
)

// Arena is a bump allocator. It implements nalloc.Allocator, with
// nalloc.ZeroAllocator, nalloc.ZeroGrower and nalloc.StatsReporter, and
// has its own fast path, TryAlloc and Alloc.
//
// Blocks belong to the arena: they stay valid until Reset, Release, or a
// Rewind to a Mark taken before them, and are given back all at once
// then. Deallocate gives a block's space back early only if it is the most
// recent one. The package doc's Memory section says where chunks come
// from and who frees them.
//
// An Arena is not safe for concurrent use: use one per goroutine. Create
// it with New; the zero value is not usable. It must not be copied (go
// vet reports a copy): a copy would hand out the same memory again.
type Arena struct {
	_ nocopy.NoCopy

	// The fast path's state: the usable end of the current chunk (aligned
	// to fastAlign; nil before the first chunk) and the free bytes below
	// it. The bump position is end-rem. TryAlloc reads these two fields
	// and nothing else.
	end unsafe.Pointer
	rem uintptr

	// chunks[:cur] are full, chunks[cur] is the current chunk, and
	// chunks[cur+1:] are spares, empty, left by Rewind. With no chunk at
	// all, cur is 0 and end is nil.
	chunks []chunk
	cur    int
	past   uintptr // bytes handed out in chunks[:cur]
	ids    uint64  // the last chunk id given out
	held   uintptr // bytes of chunk memory held, counted against limit
	gen    uint32  // bumped by Reset and Release, to spot stale Marks
	// Marks are numbered by Checkpoint (serial is the last number given).
	// Rewind to a mark makes every mark taken after it stale: dead holds
	// those numbers as disjoint ranges, in order. droppedFirst are the ids
	// of first chunks that dropEmpty gave back while the arena held no
	// block: a mark in one of them means the start of the arena.
	serial       uint64
	dead         []serialRange
	droppedFirst []uint64
	// switches counts changes of the current chunk, so that the zeroing
	// paths can tell whether an allocation moved to another chunk.
	switches uint64

	parent nalloc.Allocator // nil: chunks come from the Go heap
	fixed  bool             // one region of the caller's, never grown
	limit  uintptr          // most bytes of chunks held; math.MaxUint: none
	first  uintptr          // size of the first chunk
	growth Growth
	next   uintptr // size of the next chunk by the growth policy

	// Why the last slow-path allocation failed, for Allocate's error.
	failure   failure
	parentErr error
}

// chunk is one region the arena bumps through.
type chunk struct {
	// base is the start of the region. For a Go-heap chunk it points at
	// the start of a pointer-free byte slice, and keeps it alive.
	base unsafe.Pointer
	size uintptr // bytes at base
	// start and end bound the usable space: end is aligned to fastAlign
	// and lies inside the region, so that no pointer handed out is at
	// or past the region's end.
	start, end uintptr
	used       uintptr // bytes handed out, when the chunk is not current
	before     uintptr // bytes handed out in the chunks before it
	id         uint64  // tells chunks apart for Rewind
	// dirty is the address below which the chunk's memory may be
	// nonzero. For the current chunk, the bump position counts too:
	// memory below max(dirty, position) may be dirty.
	dirty uintptr
	from  source
}

type source uint8

const (
	fromGo     source = iota // make([]byte): zeroed, freed by the collector
	fromParent               // parent.Allocate: give back with Deallocate
	fromCaller               // WithBuffer, WithBlock: not the arena's to free
)

type failure uint8

const (
	failNone   failure = iota
	failLimit          // the limit leaves no room for the chunk
	failParent         // the parent refused the chunk (parentErr)
	failGo             // more than the machine's memory
	failFixed          // the fixed region is full
	failSize           // the request overflows once aligned
)

// Growth is how the size of each new chunk follows from the one before.
type Growth uint8

const (
	// Double makes each new chunk twice the size of the one the policy
	// made before (the default, as in bumpalo): few trips to the parent,
	// and at most about half of the newest chunk unused.
	Double Growth = iota
	// Constant makes every chunk the first chunk's size (or the request's,
	// when larger): memory taken in even steps, more chunks.
	Constant
)

// Option configures an Arena in New.
type Option func(*Arena)

// WithParent makes the arena take its chunks from parent (any
// nalloc.Allocator: jemalloc, mimalloc, glibc) instead of the Go heap,
// and give them back with parent.Deallocate on Reset (all but the largest)
// and Release. Call Release when done, or the chunks leak.
func WithParent(parent nalloc.Allocator) Option {
	return func(a *Arena) { a.parent = parent }
}

// WithBuffer makes the arena allocate from buf alone, never growing: when
// buf is full, Alloc returns nil and Allocate ErrOutOfMemory. The arena
// keeps buf alive; the caller must not use buf's memory while the arena
// hands it out. Up to 16 bytes at its end are never handed out (see
// Design). It overrides WithParent, WithChunkSize, WithGrowth and
// WithLimit.
func WithBuffer(buf []byte) Option {
	return func(a *Arena) {
		a.fixed = true
		a.setFixed(unsafe.Pointer(unsafe.SliceData(buf)), uintptr(len(buf)))
	}
}

// WithBlock is WithBuffer for a region that is not a Go slice: size bytes
// at p, for instance a block from a native nalloc.Allocator. The caller
// keeps ownership: the region must stay valid while the arena is used,
// and it is the caller's to free afterwards.
func WithBlock(p unsafe.Pointer, size uintptr) Option {
	return func(a *Arena) {
		a.fixed = true
		a.setFixed(p, size)
	}
}

// WithChunkSize sets the size of the first chunk (4 KiB by default; at
// least 64 bytes).
func WithChunkSize(n uintptr) Option {
	return func(a *Arena) { a.first = max(n, minChunkSize) }
}

// WithGrowth sets how the size of each new chunk follows from the last:
// Double (the default) or Constant.
func WithGrowth(g Growth) Option {
	return func(a *Arena) { a.growth = g }
}

// WithLimit bounds the bytes of chunk memory the arena holds at once (0:
// nothing can be allocated). Past it, Alloc returns nil and Allocate an
// error wrapping nalloc.ErrOutOfMemory. Every chunk spends up to 16 bytes
// on its guard, which count, so the largest single block is a little under
// n.
func WithLimit(n uintptr) Option {
	return func(a *Arena) { a.limit = n }
}

// New returns an empty Arena. With no options, it takes chunks from the
// Go heap, starting at 4 KiB and doubling, with no limit. It allocates no
// chunk until the first allocation.
func New(opts ...Option) *Arena {
	a := &Arena{limit: math.MaxUint, first: defaultChunkSize}
	for _, opt := range opts {
		opt(a)
	}
	if a.fixed {
		a.parent, a.limit = nil, math.MaxUint
	}
	a.next = a.first
	a.check()
	return a
}

// TryAlloc is the inlinable fast path: it returns a block of size bytes
// aligned to align from the current chunk, or nil if that chunk has no
// room or align is not a power of two no greater than 16. Then call
// Alloc, which takes the slow path:
//
//	p := a.TryAlloc(64, 8)
//	if p == nil {
//		p = a.Alloc(64, 8)
//	}
//
// The block's contents are undefined. It stays valid until Reset, Rewind
// to a Mark taken before it, or Release; Deallocate gives its space back
// only if it is the most recent block.
//
// TryAlloc must stay within the compiler's inlining budget:
// TestTryAllocInlines checks it with go build -gcflags=-m.
func (a *Arena) TryAlloc(size, align uintptr) unsafe.Pointer {
	// The end is aligned to fastAlign, so rounding the free space down to
	// align rounds the block's start, end-r, up to it. size > r also
	// catches any size that would wrap.
	r := a.rem &^ (align - 1)
	if size > r || align-1 >= fastAlign || align&(align-1) != 0 {
		return nil
	}
	a.rem = r - size
	return unsafe.Add(a.end, -int(r))
}

// Alloc returns a block of size bytes aligned to align, which must be a
// power of two. It takes the fast path when the current chunk has room and
// otherwise fits the block in the current chunk at any alignment, or in a
// new chunk. It returns nil, never panicking, when align is not a power of
// two or the block cannot be had: the limit, a full fixed buffer, or a
// parent that refuses the chunk (Allocate says which, in its error).
//
// The block's contents are undefined; it is valid until Reset, Rewind or
// Release, as for TryAlloc.
func (a *Arena) Alloc(size, align uintptr) unsafe.Pointer {
	if p := a.TryAlloc(size, align); p != nil {
		return p
	}
	return a.allocSlow(size, align)
}

// AllocatedBytes returns the bytes handed out since the last Reset or
// Release (or since New), alignment padding included, less what
// Deallocate, Shrink and Rewind gave back. The chunk memory the arena
// holds, which the limit counts, is Stats().Mapped.
func (a *Arena) AllocatedBytes() uintptr {
	if a.end == nil {
		return a.past
	}
	return a.past + a.pos() - a.chunks[a.cur].start
}

// Reset gives back every block at once: all of them become invalid. The
// arena keeps its largest chunk, empty, and returns the others to the
// parent (or the Go heap), so that a loop of similar rounds settles into
// one chunk. Marks taken before Reset become stale.
func (a *Arena) Reset() {
	a.leave()
	a.poisonUsed(0, len(a.chunks))
	a.newGeneration()
	a.past = 0
	if len(a.chunks) == 0 {
		return
	}
	keep := 0
	for i, c := range a.chunks {
		if c.size > a.chunks[keep].size {
			keep = i
		}
	}
	a.chunks[0], a.chunks[keep] = a.chunks[keep], a.chunks[0]
	a.releaseChunks(a.chunks[1:])
	a.chunks = a.chunks[:1]
	a.enter(0)
	a.check()
}

// Release gives back every block and every chunk: the chunks go back to
// the parent (Go-heap chunks to the collector), and the arena starts over
// as from New, with its options. An arena over a fixed buffer keeps the
// buffer: for it, Release is Reset. Marks taken before Release become
// stale.
func (a *Arena) Release() {
	if a.fixed {
		a.Reset()
		return
	}
	a.leave()
	a.poisonUsed(0, len(a.chunks))
	a.releaseChunks(a.chunks)
	a.chunks = a.chunks[:0]
	a.cur, a.end, a.rem, a.past = 0, nil, 0, 0
	a.next = a.first
	a.newGeneration()
	a.check()
}

// newGeneration makes every mark taken so far stale (Reset, Release), and
// forgets what only those marks needed.
func (a *Arena) newGeneration() {
	a.gen++
	a.dead = a.dead[:0]
	a.droppedFirst = a.droppedFirst[:0]
}

// serialRange is the mark numbers lo+1 to hi.
type serialRange struct{ lo, hi uint64 }

// isDead reports whether mark number n was made stale by a Rewind.
func (a *Arena) isDead(n uint64) bool {
	// The ranges are disjoint and in order: find the first that ends at
	// or after n.
	i := sort.Search(len(a.dead), func(i int) bool { return a.dead[i].hi >= n })
	return i < len(a.dead) && a.dead[i].lo < n
}

// kill makes the marks numbered after n stale: Rewind(n) gave back what
// they point into. Ranges are merged, so a loop of nested checkpoints
// keeps one range per level at most.
func (a *Arena) kill(n uint64) {
	if n >= a.serial {
		return
	}
	r := serialRange{n, a.serial}
	for len(a.dead) > 0 && r.lo <= a.dead[len(a.dead)-1].hi {
		r.lo = min(r.lo, a.dead[len(a.dead)-1].lo)
		a.dead = a.dead[:len(a.dead)-1]
	}
	a.dead = append(a.dead, r)
}

// releaseChunks gives cs back to where they came from and forgets them.
func (a *Arena) releaseChunks(cs []chunk) {
	for i := range cs {
		c := &cs[i]
		if c.from == fromParent {
			a.parent.Deallocate(c.base, nalloc.Layout{Size: c.size, Align: fastAlign})
		}
		a.held -= c.size
		*c = chunk{} // drop the reference to Go-heap memory
	}
}

// Mark is a position in an Arena, from Checkpoint, to Rewind to. It is a
// small value: copy it freely. The zero Mark is the start of an arena that
// has not been Reset or Released.
type Mark struct {
	gen    uint32
	serial uint64  // its number, from Checkpoint
	chunk  int     // index in the chunk list
	id     uint64  // of that chunk, 0 for none yet
	off    uintptr // bytes from the chunk's start
}

// Checkpoint returns the arena's current position. Rewind(m) later gives
// back every block allocated after it; marks nest like a stack.
func (a *Arena) Checkpoint() Mark {
	a.serial++
	m := Mark{gen: a.gen, serial: a.serial, chunk: a.cur}
	if a.end != nil {
		m.id = a.chunks[a.cur].id
		m.off = a.pos() - a.chunks[a.cur].start
	}
	return m
}

// Rewind gives back every block allocated since m was taken, and the
// space that older blocks grew into in place since: they become invalid,
// and the space is used again. Chunks that become empty are kept as spares
// for the allocations that follow. Marks nest: Rewind to an inner mark
// keeps the outer ones valid. If the arena is already at or before m's
// position in m's chunk (Deallocate gave the last blocks back), Rewind
// does nothing.
//
// It returns an error wrapping ErrStaleMark, and changes nothing, if m was
// taken before a Reset or Release, or after a mark the arena has since been
// rewound to (what m points into was given back, and may be in use again).
func (a *Arena) Rewind(m Mark) error {
	switch {
	case m.gen != a.gen:
		return fmt.Errorf("%w: the mark was taken before a Reset or Release", ErrStaleMark)
	case m.serial != 0 && a.isDead(m.serial):
		return fmt.Errorf("%w: the arena was rewound to an earlier mark since this one was taken", ErrStaleMark)
	case m.chunk > a.cur:
		return fmt.Errorf("%w: the mark's chunk is ahead of the arena's (rewound past already?)", ErrStaleMark)
	case a.end == nil:
		return nil // nothing allocated since the mark, on an empty arena
	case m.id == 0 || m.chunk == 0 && (m.off == 0 || slices.Contains(a.droppedFirst, m.id)):
		// Taken before the first chunk, at its start, or in a first
		// chunk that was given back empty: nothing taken then is live,
		// so the mark is the start of whatever chunk is first now
		// (dropEmpty may have replaced it, under a limit).
		m.chunk, m.off = 0, 0
	case m.id != a.chunks[m.chunk].id:
		return fmt.Errorf("%w: the mark's chunk is no longer in use (rewound past already?)", ErrStaleMark)
	}
	a.kill(m.serial)
	off := min(m.off, a.usedOf(m.chunk))
	if m.chunk == a.cur && off == a.usedOf(a.cur) {
		return nil
	}
	a.leave()
	if invariants.Enabled {
		a.poisonUsed(m.chunk+1, a.cur+1)
		c := &a.chunks[m.chunk]
		a.poison(c.start+off, c.start+a.usedOf(m.chunk))
	}
	if m.chunk != a.cur {
		for i := m.chunk + 1; i <= a.cur; i++ {
			a.chunks[i].used = 0
		}
		a.past = a.chunks[m.chunk].before
		a.enter(m.chunk)
	}
	c := &a.chunks[a.cur]
	c.used = 0
	a.rem = c.end - c.start - off
	a.check()
	return nil
}

// usedOf returns the bytes handed out in chunks[i], which is not a spare.
func (a *Arena) usedOf(i int) uintptr {
	if i == a.cur {
		return a.pos() - a.chunks[i].start
	}
	return a.chunks[i].used
}
