// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"fmt"
	"log"

	"github.com/nalloc/nalloc"
	_ "github.com/nalloc/nalloc/all"
)

// A program that prefers a native allocator but must run everywhere opens
// it and falls back to the Go heap on any error: the library is not
// installed (nalloc.ErrLibraryNotFound), or the backend does not run on
// this system (nalloc.ErrUnsupported: Windows, glibc on macOS, libsystem
// anywhere but macOS, or jemalloc on macOS before
// jemalloc.AllowDefaultZone). "go" opens on every system.
func ExampleOpen_fallback() {
	a, err := nalloc.Open("jemalloc")
	if err != nil {
		log.Printf("jemalloc: %v; using the Go heap", err)
		if a, err = nalloc.Open("go"); err != nil {
			panic(err)
		}
	}
	l := nalloc.LayoutOf[[8]uint64]()
	p, err := a.Allocate(l)
	if err != nil {
		panic(err)
	}
	defer a.Deallocate(p, l)
	(*[8]uint64)(p)[7] = 7
	fmt.Println((*[8]uint64)(p)[7])
	// Output: 7
}
