// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package tcmalloc_test

import (
	"fmt"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/tcmalloc"
)

func Example() {
	a, err := tcmalloc.Open()
	if err != nil {
		panic(err) // wraps nalloc.ErrLibraryNotFound: apt-get install libtcmalloc-minimal4
	}
	l := nalloc.Layout{Size: 4 << 20, Align: 4096}
	p, err := a.Allocate(l) // tc_memalign: the alignment is above tc_malloc's 16
	if err != nil {
		panic(err)
	}
	s, _ := a.Stats()
	fmt.Println(uintptr(p)%4096 == 0, s.Allocated >= uint64(l.Size))
	a.Deallocate(p, l)

	// Give the page heap's free pages back to the OS, as
	// MallocExtension::ReleaseFreeMemory does.
	fmt.Println(a.Purge())
	// Output:
	// true true
	// <nil>
}

func ExampleAllocator_Tune() {
	a, err := tcmalloc.Open()
	if err != nil {
		panic(err)
	}
	// Let the thread caches hold up to 64 MiB together (the default is 32).
	fmt.Println(a.Tune("tcmalloc.max_total_thread_cache_bytes", "64MiB"))
	v, _ := a.Property("tcmalloc.max_total_thread_cache_bytes")
	fmt.Println(v >> 20)
	// Output:
	// <nil>
	// 64
}
