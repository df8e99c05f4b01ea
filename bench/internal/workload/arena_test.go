// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package workload

import (
	"os"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/jemalloc"
	"github.com/nalloc/nalloc/tcmalloc"
)

// An arena for the tests: Reset frees everything, Deallocate nothing
// (the shoot-out's own tests register the same one in their binary).
func init() { nalloc.Register("test-arena", func() (nalloc.Allocator, error) { return &arena{}, nil }) }

// arena is the smallest bump arena: one Go-heap chunk per 1 MiB, reused
// after Reset. Not for concurrent use.
type arena struct {
	chunks [][]byte
	cur    int // chunk in use
	off    uintptr
	resets int
}

func (a *arena) Allocate(l nalloc.Layout) (unsafe.Pointer, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	const chunk = 1 << 20
	if l.Size+l.Align > chunk {
		return nil, nalloc.OutOfMemory("test-arena", l)
	}
	for {
		if a.cur < len(a.chunks) {
			base := uintptr(unsafe.Pointer(&a.chunks[a.cur][0]))
			start := (base + a.off + l.Align - 1) &^ (l.Align - 1)
			if start+l.Size <= base+chunk {
				a.off = start + l.Size - base
				return unsafe.Add(unsafe.Pointer(&a.chunks[a.cur][0]), start-base), nil
			}
			a.cur++
			a.off = 0
			continue
		}
		a.chunks = append(a.chunks, make([]byte, chunk))
	}
}

func (a *arena) Deallocate(unsafe.Pointer, nalloc.Layout) {}
func (a *arena) Grow(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	return nalloc.Reallocate(a, p, old, new)
}
func (a *arena) Shrink(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	return p, nalloc.ValidateShrink(old, new)
}
func (a *arena) Reset() { a.cur, a.off, a.resets = 0, 0, a.resets+1 }

// TestMain makes jemalloc and TCMalloc loadable in this process, as the
// shoot-out's children are (jemalloc.Reexec re-executes the test binary
// with the static-TLS tunable), for the cgo peer's dlopen of them.
func TestMain(m *testing.M) {
	_ = jemalloc.Reexec()
	_ = tcmalloc.Reexec()
	os.Exit(m.Run())
}
