// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package peer holds the shoot-out's peers: what a Go program uses when
// it does not use nalloc, measured beside nalloc's allocators in the same
// workloads, the same processes and the same discipline:
//
//   - make: the idiomatic Go program. Allocate is make([]byte, n);
//     Deallocate does nothing, and the block lives as long as something
//     points at it: the workload drops its pointer when it reuses the
//     slot, and the garbage collector collects. This is the baseline the
//     "go" allocator (nalloc's GoHeap, which keeps each block in a table
//     until Deallocate, as the Allocator contract asks) is usually taken
//     for.
//   - modernc: modernc.org/memory, the pure-Go mmap allocator behind
//     modernc's sqlite and libc, shared by every goroutine behind one
//     mutex, as modernc.org/libc's malloc shares it.
//
// The cgo peer, each native library called through cgo, is in cgo.go
// (cgo_off.go without cgo). They are registered here, in the bench
// module, so that the library never depends on them.
package peer

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"unsafe"

	"github.com/nalloc/nalloc"
	"modernc.org/memory"
)

func init() {
	nalloc.Register(MakeName, func() (nalloc.Allocator, error) { return &Make{}, nil })
	nalloc.Register(ModerncName, func() (nalloc.Allocator, error) { return sharedModernc, nil })
}

const (
	MakeName    = "make"
	ModerncName = "modernc"
)

// ErrNoCgo is why a binary built without cgo has no cgo figures.
var ErrNoCgo = errors.New("this binary was built with CGO_ENABLED=0: build it with CGO_ENABLED=1 and a C compiler " +
	"(CGO_ENABLED=1 go run ./bench) for the cgo figures")

// Make is the make peer: Go-heap blocks that nothing but the caller's
// pointer keeps alive. It is not a general nalloc.Allocator (a block whose
// address is kept only as a uintptr, or in memory the garbage collector
// does not scan, is collected under its user), which is why it lives in
// the bench: the workloads keep their blocks in Go memory as
// unsafe.Pointer, as a Go program keeps its []byte. Safe for concurrent
// use; the zero value is ready.
type Make struct{}

// Allocate returns make([]byte, n), or, for an alignment the Go heap
// does not give, a larger one with an aligned block inside. Go aligns a
// pointer-free object of 16 bytes or more to 8, and smaller ones (from the
// tiny allocator) to their size's lowest set bit: the size is rounded up
// to the alignment so that it is at least that.
func (*Make) Allocate(l nalloc.Layout) (unsafe.Pointer, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	n := max(l.Size, 1)
	if l.Align <= 8 {
		n = (n + l.Align - 1) &^ (l.Align - 1)
		return unsafe.Pointer(unsafe.SliceData(make([]byte, n))), nil
	}
	b := make([]byte, n+l.Align-1)
	p := unsafe.Pointer(unsafe.SliceData(b))
	// An interior pointer keeps the whole object alive.
	return unsafe.Add(p, (l.Align-uintptr(p)%l.Align)%l.Align), nil
}

// Deallocate does nothing: the garbage collector frees the block once
// nothing points at it.
func (*Make) Deallocate(unsafe.Pointer, nalloc.Layout) {}

func (m *Make) Grow(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	return moveBlock(m, p, old, new, nalloc.ValidateGrow)
}

func (m *Make) Shrink(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	return moveBlock(m, p, old, new, nalloc.ValidateShrink)
}

// Purge is debug.FreeOSMemory, as for the "go" allocator.
func (*Make) Purge() error {
	debug.FreeOSMemory()
	return nil
}

// moveBlock is Grow and Shrink for the peers, which resize no block in
// place: check the pair of layouts, then allocate, copy and free.
func moveBlock(a nalloc.Allocator, p unsafe.Pointer, old, new nalloc.Layout, validate func(old, new nalloc.Layout) error) (unsafe.Pointer, error) {
	if err := validate(old, new); err != nil {
		return nil, err
	}
	return nalloc.Reallocate(a, p, old, new)
}

// modernc is modernc.org/memory's Allocator behind a mutex, the
// modernc peer. Its blocks are mmapped, off the Go heap, and 16-byte
// aligned; it serves no larger alignment. Safe for concurrent use.
type modernc struct {
	mu sync.Mutex
	a  memory.Allocator
}

// sharedModernc is the process's one modernc allocator, as
// modernc.org/libc has one.
var sharedModernc = &modernc{}

// moderncAlign is the alignment of every modernc block.
const moderncAlign = 16

func (m *modernc) Allocate(l nalloc.Layout) (unsafe.Pointer, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	if l.Align > moderncAlign {
		return nil, fmt.Errorf("%w: modernc.org/memory aligns to %d bytes, not %d", nalloc.ErrInvalidLayout, moderncAlign, l.Align)
	}
	m.mu.Lock()
	p, err := m.a.UnsafeMalloc(int(max(l.Size, 1))) // malloc(0) is nil there
	m.mu.Unlock()
	if err != nil || p == nil {
		return nil, fmt.Errorf("%w (%v)", nalloc.OutOfMemory(ModerncName, l), err)
	}
	return p, nil
}

func (m *modernc) Deallocate(p unsafe.Pointer, _ nalloc.Layout) {
	if p == nil {
		return
	}
	m.mu.Lock()
	err := m.a.UnsafeFree(p)
	m.mu.Unlock()
	if err != nil {
		panic("bench: modernc: " + err.Error()) // a pointer it did not hand out: a bug in the caller
	}
}

func (m *modernc) Grow(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	return moveBlock(m, p, old, new, nalloc.ValidateGrow)
}

func (m *modernc) Shrink(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	return moveBlock(m, p, old, new, nalloc.ValidateShrink)
}

// Purge is modernc's Trim: it unmaps the regions the allocator keeps for
// reuse.
func (m *modernc) Purge() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.a.Trim()
}
