// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package mimalloc_test

import (
	"fmt"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/mimalloc"
)

func Example() {
	a, err := mimalloc.Open()
	if err != nil {
		panic(err) // wraps nalloc.ErrLibraryNotFound: apt-get install libmimalloc2.0
	}
	l := nalloc.Layout{Size: 256, Align: 256} // a pair mimalloc 2.0.9's mi_malloc_aligned gets wrong
	p, err := a.Allocate(l)
	if err != nil {
		panic(err)
	}
	fmt.Println(uintptr(p)%256 == 0, a.UsableSize(p) >= l.Size)

	q, err := a.Grow(p, l, nalloc.Layout{Size: 4096, Align: 4096})
	if err != nil {
		panic(err)
	}
	fmt.Println(uintptr(q)%4096 == 0)
	a.Deallocate(q, nalloc.Layout{Size: 4096, Align: 4096})
	// Output:
	// true true
	// true
}

// A heap collects blocks that die together: WithHeap frees them all at
// once when its function ends, and Stats says how much the heap holds
// meanwhile.
func ExampleAllocator_WithHeap() {
	a, err := mimalloc.Open()
	if err != nil {
		panic(err)
	}
	var heap *mimalloc.Heap
	// The function runs on this goroutine, locked to its thread.
	err = a.WithHeap(func(h *mimalloc.Heap) error {
		heap = h
		l := nalloc.Layout{Size: 1024, Align: 8}
		for range 1000 {
			p, err := h.Allocate(l)
			if err != nil {
				return err
			}
			*(*byte)(p) = 1
		}
		s, err := h.Stats()
		if err != nil {
			return err
		}
		fmt.Println("allocated:", s.Allocated)
		return nil // no Deallocate for each block: the heap is destroyed
	})
	if err != nil {
		panic(err)
	}
	_, err = heap.Allocate(nalloc.Layout{Size: 8, Align: 8})
	fmt.Println(err)
	// Output:
	// allocated: 1024000
	// mimalloc: heap closed: Allocate after Destroy
}

func ExampleParseOption() {
	a, err := mimalloc.Open()
	if err != nil {
		panic(err)
	}
	o, err := mimalloc.ParseOption("MIMALLOC_DECOMMIT_DELAY") // as a flag or the environment would name it
	if err != nil {
		panic(err)
	}
	was, _ := a.GetOption(o)
	fmt.Println(o, a.SetOption(o, 0))
	v, _ := a.GetOption(o)
	fmt.Println(v)
	a.SetOption(o, was)

	_, err = mimalloc.ParseOption("purge_delay")
	fmt.Println(err != nil)
	// Output:
	// decommit_delay <nil>
	// 0
	// true
}
