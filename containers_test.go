// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
	_ "github.com/nalloc/nalloc/all" // registers every backend (jemalloc: see TestMain)
	"github.com/nalloc/nalloc/internal/native"
)

// isModuleAllocator reports whether name is one of this module's
// allocators (the Go heap, the bump arena, a native backend), not a name
// some test registered.
func isModuleAllocator(name string) bool {
	return name == "go" || name == "bump" ||
		slices.ContainsFunc(native.Specs(), func(s *native.Spec) bool { return s.Name == name })
}

// openHere opens the allocator registered as name, for the tests and
// benchmarks that go over every allocator of this module. ok is false
// for a native backend that does not run on this system (libsystem off
// macOS, native.Spec.RunsHere), once its Open has said so with an error
// wrapping nalloc.ErrUnsupported: the caller leaves it out, and openHere
// logs why. Any other failure fails tb, an unsupported error from a
// backend that should run here included.
func openHere(tb testing.TB, name string) (a nalloc.Allocator, ok bool) {
	tb.Helper()
	a, err := nalloc.Open(name)
	switch {
	case err == nil:
		return a, true
	case errors.Is(err, nalloc.ErrUnsupported) && !runsHere(name):
		tb.Logf("%s left out, unsupported here: %v", name, err)
		return nil, false
	}
	tb.Fatalf("Open(%q): %v", name, err)
	return nil, false
}

// openOrSkip is openHere for a test or benchmark of one allocator: it
// skips tb where the backend does not run.
func openOrSkip(tb testing.TB, name string) nalloc.Allocator {
	tb.Helper()
	a, ok := openHere(tb, name)
	if !ok {
		tb.SkipNow() // openHere logged why
	}
	return a
}

// runsHere reports whether name is an allocator that runs on this
// system: any but a native backend with no library here.
func runsHere(name string) bool {
	i := slices.IndexFunc(native.Specs(), func(s *native.Spec) bool { return s.Name == name })
	return i < 0 || native.Specs()[i].RunsHere()
}

// forEachAllocator runs f on every allocator of this module that is
// registered, each wrapped in a tracker that checks every block comes back
// once, with its layout.
func forEachAllocator(t *testing.T, f func(t *testing.T, tr *tracker)) {
	for _, name := range nalloc.Names() {
		if !isModuleAllocator(name) {
			continue // registered by another test
		}
		t.Run("alloc="+name, func(t *testing.T) {
			tr := track(t, openOrSkip(t, name))
			f(t, tr)
			tr.checkEmpty()
		})
	}
}

// tracker is an Allocator that passes calls on to another and checks how
// they are made: every Deallocate, Grow and Shrink must name a live block
// with the layout it was allocated with (a misuse is reported and not
// passed on). It can refuse a chosen call, to test the failure paths: the
// calls that can fail (Allocate, AllocateZeroed, Grow, Shrink) are
// numbered from 1, and failAt (if not 0) is refused, or every call from
// failAt on if failFrom is set. Not safe for concurrent use.
type tracker struct {
	t        testing.TB
	a        nalloc.Allocator
	live     map[uintptr]nalloc.Layout
	calls    int
	failAt   int
	failFrom bool
	refusals int
}

func track(t testing.TB, a nalloc.Allocator) *tracker {
	return &tracker{t: t, a: a, live: make(map[uintptr]nalloc.Layout)}
}

// failOn makes the tracker refuse its k-th call from now on (counting
// from the next one), or every call from then on if from is set; k = 0
// refuses nothing.
func (tr *tracker) failOn(k int, from bool) {
	tr.calls, tr.failAt, tr.failFrom = 0, k, from
}

func (tr *tracker) refuse(l nalloc.Layout) error {
	tr.calls++
	if tr.failAt != 0 && (tr.calls == tr.failAt || tr.failFrom && tr.calls > tr.failAt) {
		tr.refusals++
		return nalloc.OutOfMemory("tracker", l)
	}
	return nil
}

func (tr *tracker) Allocate(l nalloc.Layout) (unsafe.Pointer, error) {
	if err := tr.refuse(l); err != nil {
		return nil, err
	}
	p, err := tr.a.Allocate(l)
	tr.add(p, l, err)
	return p, err
}

func (tr *tracker) AllocateZeroed(l nalloc.Layout) (unsafe.Pointer, error) {
	if err := tr.refuse(l); err != nil {
		return nil, err
	}
	p, err := nalloc.AllocateZeroed(tr.a, l)
	tr.add(p, l, err)
	return p, err
}

func (tr *tracker) add(p unsafe.Pointer, l nalloc.Layout, err error) {
	if err != nil {
		return
	}
	if uintptr(p)%l.Align != 0 {
		tr.t.Errorf("block %p for %v is misaligned", p, l)
	}
	if old, dup := tr.live[uintptr(p)]; dup {
		tr.t.Errorf("block %p for %v handed out while live as %v", p, l, old)
	}
	tr.live[uintptr(p)] = l
}

// check reports whether p is a live block of layout l.
func (tr *tracker) check(op string, p unsafe.Pointer, l nalloc.Layout) bool {
	got, ok := tr.live[uintptr(p)]
	if !ok {
		tr.t.Errorf("%s(%p, %v): not a live block (double free or foreign pointer)", op, p, l)
		return false
	}
	if got != l {
		tr.t.Errorf("%s(%p, %v): the block was allocated as %v", op, p, l, got)
		return false
	}
	return true
}

func (tr *tracker) Deallocate(p unsafe.Pointer, l nalloc.Layout) {
	if p == nil || !tr.check("Deallocate", p, l) {
		return
	}
	delete(tr.live, uintptr(p))
	tr.a.Deallocate(p, l)
}

func (tr *tracker) Grow(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	return tr.resize("Grow", tr.a.Grow, p, old, new)
}

func (tr *tracker) Shrink(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	return tr.resize("Shrink", tr.a.Shrink, p, old, new)
}

func (tr *tracker) resize(op string, f func(unsafe.Pointer, nalloc.Layout, nalloc.Layout) (unsafe.Pointer, error),
	p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	if !tr.check(op, p, old) {
		return nil, fmt.Errorf("tracker: %s of a block that is not live", op)
	}
	if err := tr.refuse(new); err != nil {
		return nil, err
	}
	q, err := f(p, old, new)
	if err != nil {
		return nil, err
	}
	delete(tr.live, uintptr(p))
	tr.add(q, new, nil)
	return q, nil
}

// liveBytes returns the bytes in live blocks.
func (tr *tracker) liveBytes() uintptr {
	var n uintptr
	for _, l := range tr.live {
		n += l.Size
	}
	return n
}

// checkEmpty reports any block still live.
func (tr *tracker) checkEmpty() {
	tr.t.Helper()
	if len(tr.live) != 0 {
		tr.t.Errorf("%d blocks (%d bytes) still live: leaked", len(tr.live), tr.liveBytes())
	}
}
