// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package arrowalloc_test

import (
	"slices"
	"sync"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/nalloc/nalloc"
	_ "github.com/nalloc/nalloc/all" // every backend, for nalloc.Open
	"github.com/nalloc/nalloc/arrowalloc"
)

// required are the allocators that must load wherever these tests run
// (make deps installs their libraries); any other registered name that
// does not load (a backend whose library is not installed) is skipped with
// the reason in the log.
var required = []string{"glibc", "go", "jemalloc", "mimalloc"}

// forEachAllocator runs f on every registered nalloc allocator that
// loads. concurrent says f uses its allocator from several goroutines,
// which leaves out the bump arena.
func forEachAllocator(t *testing.T, concurrent bool, f func(t *testing.T, name string, a nalloc.Allocator)) {
	t.Helper()
	for _, name := range nalloc.Names() {
		if concurrent && name == "bump" {
			continue // one arena serves one goroutine
		}
		t.Run("alloc="+name, func(t *testing.T) {
			a, err := nalloc.Open(name)
			if err != nil {
				if slices.Contains(required, name) {
					t.Fatalf("nalloc.Open(%q): %v", name, err)
				}
				t.Skipf("nalloc.Open(%q): %v", name, err)
			}
			f(t, name, a)
		})
	}
}

// alignCheck is a memory.Allocator that passes every call on and records
// each buffer it returns that is not aligned to arrowalloc.Alignment.
type alignCheck struct {
	mem memory.Allocator

	mu        sync.Mutex
	buffers   int // non-empty buffers returned
	misplaced []uintptr
}

func (c *alignCheck) Allocate(size int) []byte { return c.check(c.mem.Allocate(size)) }

func (c *alignCheck) Reallocate(size int, b []byte) []byte {
	return c.check(c.mem.Reallocate(size, b))
}

func (c *alignCheck) Free(b []byte) { c.mem.Free(b) }

func (c *alignCheck) check(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	c.mu.Lock()
	c.buffers++
	if addr%arrowalloc.Alignment != 0 {
		c.misplaced = append(c.misplaced, addr)
	}
	c.mu.Unlock()
	return b
}

// verify fails t unless at least one buffer went through and all were
// aligned.
func (c *alignCheck) verify(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buffers == 0 {
		t.Errorf("no buffer was allocated through the alignment check")
	}
	if len(c.misplaced) > 0 {
		t.Errorf("%d of %d buffers not %d-byte aligned, e.g. %#x",
			len(c.misplaced), c.buffers, arrowalloc.Alignment, c.misplaced[0])
	}
}

// stack is what the Arrow tests run on: Arrow's CheckedAllocator (leaks
// and sizes, as Arrow's own tests check them) over the alignment check
// over arrowalloc over, in the poisoned setting, nalloc's Checked (misuse
// at the nalloc level: double frees, wrong layouts, blocks never given
// back; and poison in every block that is not zeroed on purpose, so that
// a missing zeroing shows) over the allocator under test.
type stack struct {
	mem     *memory.CheckedAllocator
	align   *alignCheck
	checked *nalloc.Checked // nil unless poisoned
}

func newStack(a nalloc.Allocator, poisoned bool) *stack {
	s := new(stack)
	if poisoned {
		s.checked = nalloc.NewChecked(a, nalloc.WithPoisonFresh(), nalloc.WithPoisonFreed())
		a = s.checked
	}
	s.align = &alignCheck{mem: arrowalloc.New(a)}
	s.mem = memory.NewCheckedAllocator(s.align)
	return s
}

// verify fails t if anything is still allocated, at either level, or any
// buffer was misaligned or any block misused.
func (s *stack) verify(t *testing.T) {
	t.Helper()
	s.mem.AssertSize(t, 0)
	s.align.verify(t)
	if s.checked == nil {
		return
	}
	if err := s.checked.Err(); err != nil {
		t.Errorf("nalloc.Checked: %v", err)
	}
	if leaks := s.checked.Leaks(); len(leaks) > 0 {
		t.Errorf("nalloc.Checked: %d blocks never given back, e.g. %d bytes from\n%s",
			len(leaks), leaks[0].Size, leaks[0].Stack)
	}
}

// forEachStack runs f on every allocator, once straight and once poisoned
// (see stack), and verifies the stack afterwards.
func forEachStack(t *testing.T, concurrent bool, f func(t *testing.T, mem memory.Allocator)) {
	t.Helper()
	forEachAllocator(t, concurrent, func(t *testing.T, name string, a nalloc.Allocator) {
		for _, poisoned := range []bool{false, true} {
			mode := "direct"
			if poisoned {
				mode = "poisoned"
			}
			t.Run(mode, func(t *testing.T) {
				s := newStack(a, poisoned)
				f(t, s.mem)
				s.verify(t)
			})
		}
	})
}
