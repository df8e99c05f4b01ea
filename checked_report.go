// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// MisuseError describes one misuse caught by Checked.
type MisuseError struct {
	Err    error   // ErrDoubleFree, ErrUnknownPointer or ErrLayoutMismatch
	Op     string  // the refused call: Deallocate, Grow, GrowZeroed, Shrink
	Addr   uintptr // the address it was given
	Layout Layout  // the Layout it was given (old, for Grow and Shrink)
	New    Layout  // the new Layout, for Grow and Shrink
	Stack  string  // the stack of the refused call
	// What Checked knows of the block at Addr (zero values if
	// nothing): its Layout, where it was allocated (or last resized),
	// where and by which call it was given back.
	Allocated  Layout
	AllocStack string
	FreeStack  string
	FreedBy    string
	// FreedMemory is how many frees Checked remembered, for an unknown
	// pointer that may be an older double free.
	FreedMemory int
}

func (e *MisuseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v: %s(%#x, %v", e.Err, e.Op, e.Addr, e.Layout)
	if e.Op != "Deallocate" {
		fmt.Fprintf(&b, ", %v", e.New)
	}
	b.WriteString(")")
	switch {
	case errors.Is(e.Err, ErrLayoutMismatch):
		fmt.Fprintf(&b, " of a block allocated as %v", e.Allocated)
	case errors.Is(e.Err, ErrDoubleFree):
		fmt.Fprintf(&b, " of a %v block already given back by %s", e.Allocated, e.FreedBy)
	default:
		fmt.Fprintf(&b, ": not a live block of this allocator (nor one of the last %d freed;"+
			" an older double free looks the same)", e.FreedMemory)
	}
	for _, s := range [...]struct{ what, stack string }{
		{"called at", e.Stack}, {"allocated at", e.AllocStack}, {"given back at", e.FreeStack},
	} {
		if s.stack != "" {
			fmt.Fprintf(&b, "\n%s:\n%s", s.what, s.stack)
		}
	}
	return b.String()
}

func (e *MisuseError) Unwrap() error { return e.Err }

// Leak is a block still live in a Checked.
type Leak struct {
	Addr  uintptr // the block's address
	Size  uintptr
	Align uintptr
	Stack string // where it was allocated or last resized
}

func (l Leak) String() string {
	return fmt.Sprintf("%d bytes (align %d) at %#x, allocated at:\n%s", l.Size, l.Align, l.Addr, l.Stack)
}

// Leaks returns the blocks still live, oldest first: at the end of a test
// or a phase, the blocks nobody gave back.
func (c *Checked) Leaks() []Leak {
	c.mu.Lock()
	defer c.mu.Unlock()
	type entry struct {
		k blockKey
		b liveBlock
	}
	var all []entry
	c.live.All(func(k blockKey, b liveBlock) bool {
		all = append(all, entry{k, b})
		return true
	})
	slices.SortFunc(all, func(x, y entry) int {
		switch {
		case x.b.seq < y.b.seq:
			return -1
		case x.b.seq > y.b.seq:
			return 1
		}
		return 0
	})
	var leaks []Leak
	for _, e := range all {
		l := Leak{Addr: e.k.addr, Size: e.b.l.Size, Align: e.b.l.Align, Stack: c.stacks.format(e.b.stack)}
		for range e.b.n {
			leaks = append(leaks, l)
		}
	}
	return leaks
}
