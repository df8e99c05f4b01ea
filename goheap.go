// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import (
	"fmt"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/nalloc/nalloc/internal/sysmem"
)

func init() {
	Register("go", func() (Allocator, error) { return NewGoHeap(), nil })
}

// GoHeap is the "go" allocator: each block is a Go byte slice, kept alive
// in the GoHeap's table from Allocate until Deallocate. It is the baseline
// the native allocators are measured against, and the allocator that needs
// nothing but Go.
//
// Its blocks are Go heap memory of a pointer-free type: the garbage
// collector never looks inside them, so they follow the same rule as
// native memory (no Go pointers in them). Unlike the native allocators,
// every Allocate is a Go heap allocation plus a table entry, so a GoHeap
// makes the garbage collector work: that is the cost the others avoid.
//
// The Go heap cannot report failure: a request the OS refuses ends the
// process. GoHeap therefore refuses up front, with ErrOutOfMemory, any
// block larger than the machine's physical memory plus swap.
//
// A GoHeap is safe for concurrent use. Use NewGoHeap or Open("go"); the
// zero value is not usable, and a GoHeap must not be copied.
type GoHeap struct {
	shards [goHeapShards]goHeapShard
	live   atomic.Int64 // bytes in live blocks, as asked for
}

const goHeapShards = 64 // a power of two

type goHeapShard struct {
	mu     sync.Mutex
	blocks map[uintptr][]byte // aligned address -> the slice that holds it
	_      [64 - unsafe.Sizeof(sync.Mutex{}) - unsafe.Sizeof(map[uintptr][]byte(nil))]byte
}

// NewGoHeap returns an empty GoHeap.
func NewGoHeap() *GoHeap {
	h := new(GoHeap)
	for i := range h.shards {
		h.shards[i].blocks = make(map[uintptr][]byte)
	}
	return h
}

func (h *GoHeap) shard(p uintptr) *goHeapShard {
	// Fibonacci hashing: blocks are at least 8-byte aligned, so the low
	// bits say little; the multiply spreads the rest.
	return &h.shards[(uint64(p)*0x9e3779b97f4a7c15)>>(64-6)]
}

// Allocate returns a block of l.Size bytes aligned to l.Align, on the Go
// heap. The block stays allocated until Deallocate.
func (h *GoHeap) Allocate(l Layout) (unsafe.Pointer, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	return h.allocate(l)
}

func (h *GoHeap) allocate(l Layout) (unsafe.Pointer, error) {
	// Go aligns pointer-free objects of 16 bytes and more to 8; smaller
	// ones come from the tiny allocator, aligned to as little as 1. Pad
	// when that is not enough. Size 0 still gets a byte: each block needs
	// an address of its own.
	n := max(l.Size, 1)
	if l.Align > 8 || (l.Align > 1 && n < 16) {
		n += l.Align - 1
	}
	if n < l.Size || uint64(n) > sysmem.MaxGoAlloc() {
		return nil, OutOfMemory("go", l)
	}
	buf := make([]byte, n)
	base := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	off := (l.Align - base%l.Align) % l.Align
	p := unsafe.Pointer(&buf[off])
	s := h.shard(uintptr(p))
	s.mu.Lock()
	s.blocks[uintptr(p)] = buf
	s.mu.Unlock()
	h.live.Add(int64(l.Size))
	return p, nil
}

// Deallocate gives back a block. It panics if p is not a live block of
// this GoHeap: a double free or a foreign pointer is a bug in the program,
// and the GoHeap, unlike C, can see it.
func (h *GoHeap) Deallocate(p unsafe.Pointer, l Layout) {
	if p == nil {
		return
	}
	s := h.shard(uintptr(p))
	s.mu.Lock()
	_, ok := s.blocks[uintptr(p)]
	delete(s.blocks, uintptr(p))
	s.mu.Unlock()
	if !ok {
		panic(fmt.Sprintf("nalloc: go: Deallocate(%p, %v) of a block this GoHeap does not hold "+
			"(freed twice, or from another allocator)", p, l))
	}
	h.live.Add(-int64(l.Size))
}

// Grow resizes the block in place when its slice has room at the new
// alignment, and moves it otherwise.
func (h *GoHeap) Grow(p unsafe.Pointer, old, new Layout) (unsafe.Pointer, error) {
	if err := ValidateGrow(old, new); err != nil {
		return nil, err
	}
	return h.resize(p, old, new)
}

// Shrink keeps the block in place when it stays aligned and at least half
// of its slice is still used; otherwise it moves the block to a smaller
// one so that the memory can be collected.
func (h *GoHeap) Shrink(p unsafe.Pointer, old, new Layout) (unsafe.Pointer, error) {
	if err := ValidateShrink(old, new); err != nil {
		return nil, err
	}
	return h.resize(p, old, new)
}

func (h *GoHeap) resize(p unsafe.Pointer, old, new Layout) (unsafe.Pointer, error) {
	if FitsInPlace(uintptr(p), h.UsableSize(p), new) {
		h.live.Add(int64(new.Size) - int64(old.Size))
		return p, nil
	}
	return Reallocate(h, p, old, new)
}

// UsableSize returns the bytes from p to the end of its slice, or 0 if p
// is not a live block of this GoHeap.
func (h *GoHeap) UsableSize(p unsafe.Pointer) uintptr {
	s := h.shard(uintptr(p))
	s.mu.Lock()
	buf, ok := s.blocks[uintptr(p)]
	s.mu.Unlock()
	if !ok {
		return 0
	}
	return uintptr(len(buf)) - (uintptr(p) - uintptr(unsafe.Pointer(unsafe.SliceData(buf))))
}

// goHeapMetrics are the runtime/metrics that Stats reads.
var goHeapMetrics = [...]string{
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/metadata/mcache/inuse:bytes",
	"/memory/classes/metadata/mspan/inuse:bytes",
	"/memory/classes/metadata/other:bytes",
}

// Stats reports this GoHeap's live bytes and the Go runtime's view of the
// whole process heap (runtime/metrics):
//
//   - Allocated: bytes in this GoHeap's live blocks, as asked for.
//   - Active: /memory/classes/heap/objects, every Go heap object of the
//     process, live or not yet swept.
//   - Mapped and Resident: /memory/classes/total less
//     /memory/classes/heap/released, the memory the runtime holds backed
//     (the runtime does not see true residency).
//   - Retained: /memory/classes/heap/released, address space the runtime
//     keeps after returning its pages.
//   - Metadata: the mcache, mspan and other metadata classes.
func (h *GoHeap) Stats() (Stats, error) {
	var samples [len(goHeapMetrics)]metrics.Sample
	for i, name := range goHeapMetrics {
		samples[i].Name = name
	}
	metrics.Read(samples[:])
	v := func(i int) uint64 { return samples[i].Value.Uint64() }
	held := v(1) - v(2)
	return Stats{
		Allocated: uint64(max(h.live.Load(), 0)),
		Active:    v(0),
		Resident:  held,
		Mapped:    held,
		Retained:  v(2),
		Metadata:  v(3) + v(4) + v(5),
	}, nil
}

// Purge implements Purger with debug.FreeOSMemory: a garbage collection,
// then every free page of the Go heap returned to the OS. It affects the
// whole Go heap, not only this GoHeap's blocks.
func (h *GoHeap) Purge() error {
	debug.FreeOSMemory()
	return nil
}
