// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package tbbmalloc_test

import (
	"fmt"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/tbbmalloc"
)

func Example() {
	a, err := tbbmalloc.Open()
	if err != nil {
		panic(err) // wraps nalloc.ErrLibraryNotFound: apt-get install libtbbmalloc2
	}
	// Ask tbbmalloc to clean its caches before it grows past 512 MiB.
	if err := a.Tune("TBBMALLOC_SET_SOFT_HEAP_LIMIT", "512MiB"); err != nil {
		panic(err)
	}
	l := nalloc.Layout{Size: 1000, Align: 64}
	p, err := a.Allocate(l) // scalable_aligned_malloc: the alignment is above 8
	if err != nil {
		panic(err)
	}
	fmt.Println(uintptr(p)%64 == 0, a.UsableSize(p) >= l.Size)
	a.Deallocate(p, l)
	fmt.Println(a.Purge()) // TBBMALLOC_CLEAN_ALL_BUFFERS
	// Output:
	// true true
	// <nil>
}
