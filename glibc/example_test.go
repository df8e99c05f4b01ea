// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package glibc_test

import (
	"fmt"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/glibc"
)

func Example() {
	a, err := glibc.Open()
	if err != nil {
		panic(err) // wraps nalloc.ErrLibraryNotFound on a system without glibc
	}
	l := nalloc.Layout{Size: 1 << 20, Align: 4096}
	p, err := a.Allocate(l) // memalign: the alignment is above malloc's 16
	if err != nil {
		panic(err)
	}
	fmt.Println(uintptr(p)%4096 == 0, a.UsableSize(p) >= l.Size)

	before, _ := a.Mallinfo2()
	a.Deallocate(p, l)
	after, _ := a.Mallinfo2()
	fmt.Println("freed:", before.Uordblks+before.Hblkhd > after.Uordblks+after.Hblkhd)
	// Output:
	// true true
	// freed: true
}

func ExampleParseParam() {
	a, err := glibc.Open()
	if err != nil {
		panic(err)
	}
	p, err := glibc.ParseParam("mmap_threshold") // as a flag or config file would give it
	if err != nil {
		panic(err)
	}
	fmt.Println(p, a.Mallopt(p, 1<<20), p == glibc.M_MMAP_THRESHOLD)
	// Output: M_MMAP_THRESHOLD <nil> true
}
