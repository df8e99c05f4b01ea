// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import (
	"sync/atomic"
	"unsafe"
)

// Counting wraps an Allocator and counts what goes through it, as the
// counting global allocators of the Rust world do: calls, bytes, live
// bytes and their peak. Each call adds to two atomic counters (a count and
// a byte total; live bytes are what was handed out less what was given
// back), with no lock and no Go heap allocation; read them with Counts.
//
// Counting is safe for concurrent use if the underlying allocator is. Use
// NewCounting; the zero value is not usable, and a Counting must not be
// copied.
type Counting struct {
	a Allocator
	// The counters share cache lines: every call touches two of them, so
	// splitting them would cost more lines, not fewer.
	allocs, deallocs, resizes, failures atomic.Uint64
	bytes, freed                        atomic.Uint64 // handed out, given back
	peak                                atomic.Int64
}

// Counts is a snapshot of a Counting's counters.
type Counts struct {
	Allocations   uint64 // successful Allocate and AllocateZeroed calls
	Deallocations uint64 // Deallocate calls with a non-nil pointer
	Resizes       uint64 // successful Grow, GrowZeroed and Shrink calls
	Failures      uint64 // calls that returned an error
	// BytesAllocated is the bytes asked for by successful allocations,
	// plus what successful Grows added: the total ever handed out.
	BytesAllocated uint64
	// LiveBytes is the bytes in blocks handed out and not given back, as
	// the Layouts say. It is negative if blocks that did not come through
	// this Counting were given back through it.
	LiveBytes int64
	// PeakLiveBytes is the highest LiveBytes seen.
	PeakLiveBytes int64
}

// NewCounting returns a Counting that passes every call on to a.
func NewCounting(a Allocator) *Counting { return &Counting{a: a} }

// Counts returns the counters. Each is read atomically, but not all at
// the same instant: while other goroutines allocate, the figures may be
// from slightly different moments.
func (c *Counting) Counts() Counts {
	freed := c.freed.Load() // before bytes: live is never understated
	bytes := c.bytes.Load()
	return Counts{
		Allocations:    c.allocs.Load(),
		Deallocations:  c.deallocs.Load(),
		Resizes:        c.resizes.Load(),
		Failures:       c.failures.Load(),
		BytesAllocated: bytes,
		LiveBytes:      int64(bytes - freed),
		PeakLiveBytes:  c.peak.Load(),
	}
}

// Allocate implements Allocator.
func (c *Counting) Allocate(l Layout) (unsafe.Pointer, error) {
	p, err := c.a.Allocate(l)
	c.allocated(l, err)
	return p, err
}

// AllocateZeroed implements ZeroAllocator with the underlying allocator's
// zeroing path, if it has one.
func (c *Counting) AllocateZeroed(l Layout) (unsafe.Pointer, error) {
	p, err := AllocateZeroed(c.a, l)
	c.allocated(l, err)
	return p, err
}

func (c *Counting) allocated(l Layout, err error) {
	if err != nil {
		c.failures.Add(1)
		return
	}
	c.allocs.Add(1)
	c.handedOut(l.Size)
}

// Deallocate implements Allocator.
func (c *Counting) Deallocate(p unsafe.Pointer, l Layout) {
	if p != nil {
		// Counted before the block is given back: once it is, another
		// goroutine may get the memory and count it first, and the live
		// bytes (and the peak) would count it twice.
		c.deallocs.Add(1)
		c.freed.Add(uint64(l.Size))
	}
	c.a.Deallocate(p, l)
}

// Grow implements Allocator.
func (c *Counting) Grow(p unsafe.Pointer, old, new Layout) (unsafe.Pointer, error) {
	q, err := c.a.Grow(p, old, new)
	c.resized(old, new, err)
	return q, err
}

// GrowZeroed implements ZeroGrower with the underlying allocator's path,
// if it has one.
func (c *Counting) GrowZeroed(p unsafe.Pointer, old, new Layout) (unsafe.Pointer, error) {
	q, err := GrowZeroed(c.a, p, old, new)
	c.resized(old, new, err)
	return q, err
}

// Shrink implements Allocator.
func (c *Counting) Shrink(p unsafe.Pointer, old, new Layout) (unsafe.Pointer, error) {
	q, err := c.a.Shrink(p, old, new)
	c.resized(old, new, err)
	return q, err
}

func (c *Counting) resized(old, new Layout, err error) {
	if err != nil {
		c.failures.Add(1)
		return
	}
	c.resizes.Add(1)
	if new.Size > old.Size {
		c.handedOut(new.Size - old.Size)
	} else {
		c.freed.Add(uint64(old.Size - new.Size))
	}
}

// handedOut counts n more bytes handed out and raises the peak of live
// bytes if it is passed. The peak is exact for one goroutine; under
// concurrent calls it may miss a peak that lasted only between another
// goroutine's two counter updates.
func (c *Counting) handedOut(n uintptr) {
	live := int64(c.bytes.Add(uint64(n)) - c.freed.Load())
	for {
		peak := c.peak.Load()
		if live <= peak || c.peak.CompareAndSwap(peak, live) {
			return
		}
	}
}

// Unwrap returns the allocator c passes its calls on to: the capabilities
// of that allocator (Stats, Purge, ...) are found through it with As.
func (c *Counting) Unwrap() Allocator { return c.a }
