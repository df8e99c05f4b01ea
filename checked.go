// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"unsafe"

	"github.com/cockroachdb/swiss"
)

// Misuses that Checked catches. Each error in Checked.Err wraps one of
// them; test with errors.Is.
var (
	// ErrDoubleFree: a block given back (Deallocate, or moved by Grow or
	// Shrink) was given back again, or resized.
	ErrDoubleFree = errors.New("nalloc: double free")
	// ErrUnknownPointer: a pointer that is not a live block of this
	// allocator was given to Deallocate, Grow or Shrink.
	ErrUnknownPointer = errors.New("nalloc: unknown pointer")
	// ErrLayoutMismatch: a live block was given back or resized with
	// another Layout than the one it has.
	ErrLayoutMismatch = errors.New("nalloc: layout mismatch")
)

// The bytes Checked fills memory with (jemalloc's junk bytes): a block
// read before it is written shows 0xa5, a block read after it is freed
// 0x5a.
const (
	freshPoison = 0xa5
	freedPoison = 0x5a
)

const (
	defaultStackDepth  = 32
	maxStackDepth      = 128
	defaultFreedMemory = 4096
	// keptMisuses is how many misuse errors Err joins; later ones are
	// only counted.
	keptMisuses = 100
)

// Checked wraps an Allocator and checks how it is used: it records every
// live block (its Layout and the stack that allocated it) in a
// cockroachdb/swiss map, and refuses, without passing them on, the calls
// that would corrupt the underlying allocator:
//
//   - a double free: Deallocate, Grow or Shrink of a block already given
//     back (ErrDoubleFree);
//   - an unknown pointer: one that no Allocate of this Checked returned
//     (ErrUnknownPointer);
//   - a layout mismatch: a live block given back or resized with another
//     Layout than its own (ErrLayoutMismatch).
//
// A refused Deallocate does nothing; a refused Grow or Shrink returns the
// error and leaves the block as it was. Every misuse is also kept for Err,
// with the stack of the bad call and, where known, the stacks that
// allocated and freed the block. Leaks lists the blocks still live.
//
// # Freed blocks
//
// Telling a double free from an unknown pointer needs a memory of freed
// blocks, and keeping all of them would grow without bound. Checked keeps
// the last 4096 frees (WithFreedMemory changes it), in a FIFO ring over a
// second swiss map; an address that a new allocation reuses leaves it at
// once. A double free older than that is reported as an unknown pointer,
// whose message says so.
//
// # Cost
//
// Each call captures a stack (runtime.Callers, up to 32 frames by
// default; WithStackDepth) and takes a mutex. Stacks are interned, so a
// program that allocates from a fixed set of call sites makes no Go heap
// allocation per call once the maps have grown. It is a debugging tool:
// expect calls to cost a microsecond or so.
//
// Checked is safe for concurrent use if the underlying allocator is. Use
// NewChecked; the zero value is not usable, and a Checked must not be
// copied.
type Checked struct {
	a                        Allocator
	depth                    int
	poisonFreed, poisonFresh bool
	freedCap                 int

	mu     sync.Mutex
	live   swiss.Map[blockKey, liveBlock]
	seq    uint64 // allocation sequence, for Leaks' order
	freed  swiss.Map[uintptr, freedBlock]
	ring   []ringEntry // the order of freed; the oldest is at head once it is full
	head   int
	stacks stackTable

	misuses []error
	dropped int // misuses beyond keptMisuses
}

// blockKey identifies a live block. Zero-size blocks are kept apart, by
// alignment, and counted, because an allocator may give several of them
// (and a sized block) the same address: a bump arena does.
type blockKey struct {
	addr      uintptr
	zeroAlign uintptr // 0 for a sized block, the alignment of a zero-size one
}

func keyOf(p unsafe.Pointer, l Layout) blockKey {
	if l.Size == 0 {
		return blockKey{uintptr(p), l.Align}
	}
	return blockKey{uintptr(p), 0}
}

// anyAt returns a live block at addr, sized or not. c.mu is held.
func (c *Checked) anyAt(addr uintptr) (liveBlock, bool) {
	if b, ok := c.live.Get(blockKey{addr, 0}); ok {
		return b, true
	}
	for align := uintptr(1); align != 0; align <<= 1 {
		if b, ok := c.live.Get(blockKey{addr, align}); ok {
			return b, true
		}
	}
	return liveBlock{}, false
}

type liveBlock struct {
	l     Layout
	stack stackID // where it was allocated or last resized
	seq   uint64
	n     uint32 // zero-size blocks at this address
}

// CheckOption configures a Checked in NewChecked.
type CheckOption func(*Checked)

// WithStackDepth sets how many frames each recorded stack keeps (32 by
// default, at most 128; 0 records none).
func WithStackDepth(n int) CheckOption {
	return func(c *Checked) { c.depth = min(max(n, 0), maxStackDepth) }
}

// WithPoisonFreed fills every block with 0x5a before it is given back, so
// that use after free reads garbage at once. With it, Grow and Shrink
// always move the block (allocate, copy, poison, free), as
// AddressSanitizer's realloc does, so that stale pointers to the old
// block see the poison too.
func WithPoisonFreed() CheckOption {
	return func(c *Checked) { c.poisonFreed = true }
}

// WithPoisonFresh fills every new block (and the new bytes of a grown
// one) with 0xa5, so that reading memory before writing it shows. The
// zeroing paths (AllocateZeroed, GrowZeroed) still give zeros.
func WithPoisonFresh() CheckOption {
	return func(c *Checked) { c.poisonFresh = true }
}

// WithFreedMemory sets how many freed blocks Checked remembers to tell a
// double free from an unknown pointer (4096 by default; 0 remembers none).
func WithFreedMemory(n int) CheckOption {
	return func(c *Checked) { c.freedCap = max(n, 0) }
}

// NewChecked returns a Checked that passes the calls it accepts on to a.
// Blocks that a hands out through other paths are unknown to it.
func NewChecked(a Allocator, opts ...CheckOption) *Checked {
	c := &Checked{a: a, depth: defaultStackDepth, freedCap: defaultFreedMemory}
	for _, opt := range opts {
		opt(c)
	}
	c.live.Init(0)
	c.freed.Init(0)
	c.stacks.ids.Init(0)
	return c
}

// Allocate implements Allocator.
func (c *Checked) Allocate(l Layout) (unsafe.Pointer, error) {
	var st stack
	c.callers(&st)
	p, err := c.a.Allocate(l)
	if err != nil {
		return nil, err
	}
	if c.poisonFresh {
		fill(p, l.Size, freshPoison)
	}
	c.track(p, l, &st)
	return p, nil
}

// AllocateZeroed implements ZeroAllocator with the underlying allocator's
// zeroing path, if it has one.
func (c *Checked) AllocateZeroed(l Layout) (unsafe.Pointer, error) {
	var st stack
	c.callers(&st)
	p, err := AllocateZeroed(c.a, l)
	if err != nil {
		return nil, err
	}
	c.track(p, l, &st)
	return p, nil
}

// Deallocate implements Allocator. A double free, an unknown pointer or a
// wrong Layout is not passed on: it is recorded for Err.
func (c *Checked) Deallocate(p unsafe.Pointer, l Layout) {
	if p == nil {
		return
	}
	var st stack
	c.callers(&st)
	c.mu.Lock()
	id := c.stacks.intern(st.pcs[:st.n])
	b, ok := c.take(p, l)
	if !ok {
		c.misuse("Deallocate", p, l, Layout{}, id)
		c.mu.Unlock()
		return
	}
	c.remember(p, b, id, "Deallocate")
	c.mu.Unlock()
	if c.poisonFreed {
		fill(p, l.Size, freedPoison)
	}
	c.a.Deallocate(p, l)
}

// Grow implements Allocator. A misused block gets the misuse error (also
// recorded for Err) and is left as it was.
func (c *Checked) Grow(p unsafe.Pointer, old, new Layout) (unsafe.Pointer, error) {
	if err := ValidateGrow(old, new); err != nil {
		return nil, err
	}
	var st stack
	c.callers(&st)
	return c.resize("Grow", &st, p, old, new, c.a.Grow)
}

// GrowZeroed implements ZeroGrower with the underlying allocator's path,
// if it has one.
func (c *Checked) GrowZeroed(p unsafe.Pointer, old, new Layout) (unsafe.Pointer, error) {
	if err := ValidateGrow(old, new); err != nil {
		return nil, err
	}
	var st stack
	c.callers(&st)
	return c.resize("GrowZeroed", &st, p, old, new, func(p unsafe.Pointer, old, new Layout) (unsafe.Pointer, error) {
		return GrowZeroed(c.a, p, old, new)
	})
}

// Shrink implements Allocator like Grow.
func (c *Checked) Shrink(p unsafe.Pointer, old, new Layout) (unsafe.Pointer, error) {
	if err := ValidateShrink(old, new); err != nil {
		return nil, err
	}
	var st stack
	c.callers(&st)
	return c.resize("Shrink", &st, p, old, new, c.a.Shrink)
}

// resize checks a Grow or Shrink of p, takes the block out of the live
// map while the underlying allocator works (which may free p and hand the
// address to another goroutine), and records the result.
func (c *Checked) resize(op string, st *stack, p unsafe.Pointer, old, new Layout,
	under func(unsafe.Pointer, Layout, Layout) (unsafe.Pointer, error)) (unsafe.Pointer, error) {
	c.mu.Lock()
	id := c.stacks.intern(st.pcs[:st.n])
	b, ok := c.take(p, old)
	if !ok {
		err := c.misuse(op, p, old, new, id)
		c.mu.Unlock()
		return nil, err
	}
	c.mu.Unlock()

	var q unsafe.Pointer
	var err error
	if c.poisonFreed {
		q, err = c.move(p, old, new, op == "GrowZeroed")
	} else {
		q, err = under(p, old, new)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.put(p, b) // the block is still the caller's, as it was
		return nil, err
	}
	if c.poisonFresh && op == "Grow" && new.Size > old.Size {
		fill(unsafe.Add(q, old.Size), new.Size-old.Size, freshPoison)
	}
	if q != p {
		c.remember(p, b, id, op) // moved: a later use of p is a use of a freed block
	}
	c.put(q, liveBlock{l: new, stack: id})
	return q, nil
}

// move is Grow or Shrink as allocate, copy, poison, free.
func (c *Checked) move(p unsafe.Pointer, old, new Layout, zeroed bool) (unsafe.Pointer, error) {
	var q unsafe.Pointer
	var err error
	if zeroed {
		q, err = AllocateZeroed(c.a, new)
	} else {
		q, err = c.a.Allocate(new)
	}
	if err != nil {
		return nil, err
	}
	copyBytes(q, p, min(old.Size, new.Size))
	fill(p, old.Size, freedPoison)
	c.a.Deallocate(p, old)
	return q, nil
}

// track records a new block, allocated at st.
func (c *Checked) track(p unsafe.Pointer, l Layout, st *stack) {
	c.mu.Lock()
	c.put(p, liveBlock{l: l, stack: c.stacks.intern(st.pcs[:st.n])})
	c.mu.Unlock()
}

// put adds a live block. c.mu is held.
func (c *Checked) put(p unsafe.Pointer, b liveBlock) {
	k := keyOf(p, b.l)
	c.seq++
	b.seq, b.n = c.seq, 1
	if k.zeroAlign != 0 {
		if prev, ok := c.live.Get(k); ok {
			b.n = prev.n + 1
		}
	}
	c.live.Put(k, b)
	// The address is live again: it is no longer a freed block.
	c.freed.Delete(uintptr(p))
}

// take removes the live block at p if its Layout is l. c.mu is held.
func (c *Checked) take(p unsafe.Pointer, l Layout) (liveBlock, bool) {
	k := keyOf(p, l)
	b, ok := c.live.Get(k)
	if !ok || b.l != l {
		return liveBlock{}, false
	}
	if b.n > 1 {
		b.n--
		c.live.Put(k, b)
	} else {
		c.live.Delete(k)
	}
	return b, true
}

// misuse diagnoses a call that take refused, records it and returns it.
// c.mu is held.
func (c *Checked) misuse(op string, p unsafe.Pointer, l, new Layout, st stackID) error {
	e := &MisuseError{Op: op, Addr: uintptr(p), Layout: l, New: new, Stack: c.stacks.format(st)}
	addr := uintptr(p)
	if b, ok := c.anyAt(addr); ok {
		e.Err, e.Allocated, e.AllocStack = ErrLayoutMismatch, b.l, c.stacks.format(b.stack)
	} else if f, ok := c.freed.Get(addr); ok {
		e.Err, e.Allocated, e.FreedBy = ErrDoubleFree, f.l, f.by
		e.AllocStack, e.FreeStack = c.stacks.format(f.alloc), c.stacks.format(f.freed)
	} else {
		e.Err, e.FreedMemory = ErrUnknownPointer, c.freedCap
	}
	if len(c.misuses) < keptMisuses {
		c.misuses = append(c.misuses, e)
	} else {
		c.dropped++
	}
	return e
}

// Err returns every misuse seen so far, joined (errors.Join), or nil if
// there was none. Each wraps ErrDoubleFree, ErrUnknownPointer or
// ErrLayoutMismatch and is a *MisuseError. The first 100 are kept; the
// ones after are only counted, in a last error.
func (c *Checked) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	errs := slices.Clone(c.misuses)
	if c.dropped > 0 {
		errs = append(errs, fmt.Errorf("nalloc: Checked: %d more misuses, not kept", c.dropped))
	}
	return errors.Join(errs...)
}

// isLive reports whether p is a block c handed out and has not seen
// given back: the package's UsableSize asks it before it passes p on, so
// that a stray pointer never reaches malloc_usable_size (which can crash
// the process on one).
func (c *Checked) isLive(p unsafe.Pointer) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.anyAt(uintptr(p))
	return ok
}

// Unwrap returns the allocator c passes its calls on to: its capabilities
// (Stats, Purge, UsableSize, ...) are found through it with As and the
// package's helpers.
func (c *Checked) Unwrap() Allocator { return c.a }

// fill sets the n bytes at p to b.
func fill(p unsafe.Pointer, n uintptr, b byte) {
	if n == 0 {
		return
	}
	s := unsafe.Slice((*byte)(p), n)
	s[0] = b
	for i := 1; i < len(s); i *= 2 {
		copy(s[i:], s[:i])
	}
}
