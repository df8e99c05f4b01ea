// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/nalloctest"
)

func TestGoHeapConformance(t *testing.T) {
	nalloctest.Run(t, nalloctest.Config{
		New:            func(testing.TB) nalloc.Allocator { return nalloc.NewGoHeap() },
		MayAllocate:    true,
		StatsAllocated: true,
	})
}

func TestGoHeapDeallocateForeignPanics(t *testing.T) {
	h := nalloc.NewGoHeap()
	var x [16]byte
	defer func() {
		msg, _ := recover().(string)
		if !strings.Contains(msg, "does not hold") {
			t.Fatalf("recover() = %q, want a panic explaining the foreign pointer", msg)
		}
	}()
	h.Deallocate(unsafe.Pointer(&x), nalloc.Layout{Size: 16, Align: 1})
}

func TestGoHeapRefusesMoreThanTheMachine(t *testing.T) {
	h := nalloc.NewGoHeap()
	// 1 PiB: under the runtime's limit, over any machine's memory.
	if _, err := h.Allocate(nalloc.Layout{Size: 1 << 50, Align: 8}); err == nil ||
		!strings.Contains(err.Error(), "out of memory") {
		t.Fatalf("Allocate(1 PiB) err = %v, want ErrOutOfMemory", err)
	}
}
