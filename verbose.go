// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import (
	"io"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// Verbose wraps an Allocator and writes one line per call to w: the call,
// its layouts and pointer, and its result or error, as in
//
//	Allocate(size=64 align=8) = 0x7f3a1c000b60
//	Grow(0x7f3a1c000b60, size=64 align=8 -> size=128 align=8) = 0x7f3a1c000ba0
//	Deallocate(0x7f3a1c000ba0, size=128 align=8)
//	Allocate(size=4611686018427387904 align=8) = error: nalloc: out of memory: ...
//
// Each line is formatted into a buffer and written with one w.Write under
// a mutex, so lines from concurrent calls never interleave; the mutex also
// serializes the calls' logging (not the calls themselves). Write errors
// are ignored, as a logger's are. Formatting makes no Go heap allocation
// except for error texts.
//
// Order: Deallocate is logged before the block is given back, so a
// concurrent Allocate that gets the same address is logged after it. A
// Grow or Shrink is logged when it returns; if it moved the block, a
// concurrent Allocate of the old address may be logged before it.
//
// Verbose is safe for concurrent use if the underlying allocator is. Use
// NewVerbose; the zero value is not usable, and a Verbose must not be
// copied.
type Verbose struct {
	a   Allocator
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

// NewVerbose returns a Verbose that passes every call on to a and logs it
// to w.
func NewVerbose(a Allocator, w io.Writer) *Verbose {
	return &Verbose{a: a, w: w, buf: make([]byte, 0, 256)}
}

// Allocate implements Allocator.
func (v *Verbose) Allocate(l Layout) (unsafe.Pointer, error) {
	p, err := v.a.Allocate(l)
	v.log("Allocate(", nil, l, nil, p, err)
	return p, err
}

// AllocateZeroed implements ZeroAllocator with the underlying allocator's
// zeroing path, if it has one.
func (v *Verbose) AllocateZeroed(l Layout) (unsafe.Pointer, error) {
	p, err := AllocateZeroed(v.a, l)
	v.log("AllocateZeroed(", nil, l, nil, p, err)
	return p, err
}

// Deallocate implements Allocator.
func (v *Verbose) Deallocate(p unsafe.Pointer, l Layout) {
	// Logged before the call: once the block is given back, another
	// goroutine may get the same address, and its line must come after.
	v.log("Deallocate(", p, l, nil, nil, nil)
	v.a.Deallocate(p, l)
}

// Grow implements Allocator.
func (v *Verbose) Grow(p unsafe.Pointer, old, new Layout) (unsafe.Pointer, error) {
	q, err := v.a.Grow(p, old, new)
	v.log("Grow(", p, old, &new, q, err)
	return q, err
}

// GrowZeroed implements ZeroGrower with the underlying allocator's path,
// if it has one.
func (v *Verbose) GrowZeroed(p unsafe.Pointer, old, new Layout) (unsafe.Pointer, error) {
	q, err := GrowZeroed(v.a, p, old, new)
	v.log("GrowZeroed(", p, old, &new, q, err)
	return q, err
}

// Shrink implements Allocator.
func (v *Verbose) Shrink(p unsafe.Pointer, old, new Layout) (unsafe.Pointer, error) {
	q, err := v.a.Shrink(p, old, new)
	v.log("Shrink(", p, old, &new, q, err)
	return q, err
}

// Unwrap returns the allocator v passes its calls on to: the capabilities
// of that allocator (Stats, Purge, ...) are found through it with As, and
// are not logged.
func (v *Verbose) Unwrap() Allocator { return v.a }

// log writes one call's line: op, the pointer it was given (if any), its
// layout and new layout (if any), and its result: a pointer (for calls
// that return one), or the error.
func (v *Verbose) log(op string, p unsafe.Pointer, l Layout, new *Layout, q unsafe.Pointer, err error) {
	v.mu.Lock()
	b := append(v.buf[:0], op...)
	if op == "Deallocate(" || new != nil {
		b = appendPointer(b, p)
		b = append(b, ", "...)
	}
	b = appendLayout(b, l)
	if new != nil {
		b = append(b, " -> "...)
		b = appendLayout(b, *new)
	}
	b = append(b, ')')
	switch {
	case err != nil:
		b = append(b, " = error: "...)
		b = append(b, strings.ReplaceAll(err.Error(), "\n", "; ")...)
	case op != "Deallocate(":
		b = append(b, " = "...)
		b = appendPointer(b, q)
	}
	v.write(b)
}

// write ends the line in b, writes it and releases v.mu.
func (v *Verbose) write(b []byte) {
	b = append(b, '\n')
	_, _ = v.w.Write(b) // a logger's write errors are not the caller's
	v.buf = b[:0]
	v.mu.Unlock()
}

func appendLayout(b []byte, l Layout) []byte {
	b = append(b, "size="...)
	b = strconv.AppendUint(b, uint64(l.Size), 10)
	b = append(b, " align="...)
	return strconv.AppendUint(b, uint64(l.Align), 10)
}

func appendPointer(b []byte, p unsafe.Pointer) []byte {
	if p == nil {
		return append(b, "nil"...)
	}
	b = append(b, "0x"...)
	return strconv.AppendUint(b, uint64(uintptr(p)), 16)
}
