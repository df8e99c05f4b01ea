// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/glibc"
	"github.com/nalloc/nalloc/internal/ffi"
)

// pausingFree is an Allocator whose Deallocate, once armed, stops right
// after the block was really given back, until resumed: the moment at
// which another goroutine may get the same memory.
type pausingFree struct {
	nalloc.Allocator
	armed         bool
	freed, resume chan struct{}
}

func newPausingFree(a nalloc.Allocator) *pausingFree {
	return &pausingFree{Allocator: a, freed: make(chan struct{}), resume: make(chan struct{})}
}

func (s *pausingFree) Deallocate(p unsafe.Pointer, l nalloc.Layout) {
	s.Allocator.Deallocate(p, l)
	if s.armed {
		s.freed <- struct{}{}
		<-s.resume
	}
}

// freeRacingAllocate frees p on another goroutine and, while that free is
// paused just after the block went back, allocates l through a.
func freeRacingAllocate(a nalloc.Allocator, u *pausingFree, p unsafe.Pointer, l nalloc.Layout) unsafe.Pointer {
	u.armed = true
	var wg sync.WaitGroup
	wg.Go(func() { a.Deallocate(p, l) })
	<-u.freed
	q, _ := a.Allocate(l)
	u.resume <- struct{}{}
	wg.Wait()
	u.armed = false
	return q
}

// A block freed on one goroutine and allocated on another right after must
// not be counted live twice: the peak stays at one block.
func TestCountingPeakNotOverstated(t *testing.T) {
	u := newPausingFree(nalloc.NewGoHeap())
	c := nalloc.NewCounting(u)
	l := nalloc.Layout{Size: 1 << 20, Align: 8}
	p, _ := c.Allocate(l)
	q := freeRacingAllocate(c, u, p, l)
	c.Deallocate(q, l)
	if s := c.Counts(); s.PeakLiveBytes != int64(l.Size) || s.LiveBytes != 0 {
		t.Fatalf("one 1 MiB block live at a time, yet PeakLiveBytes = %d, LiveBytes = %d", s.PeakLiveBytes, s.LiveBytes)
	}
}

// The free of a block is logged before the allocation that reuses its
// address on another goroutine.
func TestVerboseLogsFreeBeforeReuse(t *testing.T) {
	g, err := glibc.Open()
	if err != nil {
		t.Fatal(err)
	}
	u := newPausingFree(g)
	var buf bytes.Buffer
	v := nalloc.NewVerbose(u, &buf)
	l := nalloc.Layout{Size: 64, Align: 8}
	p, _ := v.Allocate(l)
	q := freeRacingAllocate(v, u, p, l)
	v.Deallocate(q, l)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[1], "Deallocate(") || !strings.HasPrefix(lines[2], "Allocate(") {
		t.Fatalf("want Allocate, Deallocate, Allocate, Deallocate in that order:\n%s", buf.String())
	}
}

type bigRecord [1 << 20]byte

// LayoutOf, and the containers built on it, must not put a value of T on
// the Go heap to measure it (a local over 128 KiB would go there).
func TestLargeTypesMakeNoGoAllocations(t *testing.T) {
	if n := testing.AllocsPerRun(10, func() { _ = nalloc.LayoutOf[bigRecord]() }); n != 0 {
		t.Errorf("LayoutOf of a 1 MiB type made %v Go allocations", n)
	}
	g, err := glibc.Open()
	if err != nil {
		t.Fatal(err)
	}
	n := testing.AllocsPerRun(10, func() {
		p, err := nalloc.New[bigRecord](g)
		if err != nil {
			t.Fatal(err)
		}
		nalloc.Delete(g, p)
	})
	// purego.SyscallN, the path without assembly, allocates per call.
	if n != 0 && ffi.FastPath != ffi.PathPurego {
		t.Errorf("New+Delete of a 1 MiB type made %v Go allocations", n)
	}
}

// Map refuses entries so large that swiss would copy a group to the Go
// heap on every lookup, and says what to do instead.
func TestMapRefusesHugeGroups(t *testing.T) {
	_, err := nalloc.NewMap[uint64, [20 << 10]byte](nalloc.NewGoHeap(), 0)
	if !errors.Is(err, nalloc.ErrInvalidLayout) || !strings.Contains(err.Error(), "keep large values in a Vec") {
		t.Fatalf("NewMap with 20 KiB values: %v; want ErrInvalidLayout saying what to do", err)
	}
	m, err := nalloc.NewMap[uint64, [8 << 10]byte](nalloc.NewGoHeap(), 0)
	if err != nil {
		t.Fatalf("NewMap with 8 KiB values: %v", err)
	}
	m.Put(1, [8 << 10]byte{7})
	if n := testing.AllocsPerRun(10, func() { m.Get(1) }); n != 0 {
		t.Errorf("Get with 8 KiB values made %v Go allocations", n)
	}
	m.Close()
}

func TestNewVecNegativeCapacity(t *testing.T) {
	if _, err := nalloc.NewVec[struct{}](nalloc.NewGoHeap(), -1); !errors.Is(err, nalloc.ErrInvalidLayout) {
		t.Errorf("NewVec[struct{}](a, -1): %v, want ErrInvalidLayout", err)
	}
	if _, err := nalloc.NewVec[int](nalloc.NewGoHeap(), -1); !errors.Is(err, nalloc.ErrInvalidLayout) {
		t.Errorf("NewVec[int](a, -1): %v, want ErrInvalidLayout", err)
	}
}
