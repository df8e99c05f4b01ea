// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"errors"
	"fmt"

	"github.com/nalloc/nalloc"
)

func ExampleOpen() {
	// "go" is always registered; import github.com/nalloc/nalloc/all (or
	// one backend package) for "glibc", "jemalloc", "mimalloc",
	// "tcmalloc", "tbbmalloc", "bump".
	a, err := nalloc.Open("go")
	if err != nil {
		panic(err)
	}
	l := nalloc.LayoutOf[[16]int64]()
	p, err := a.Allocate(l)
	if err != nil {
		panic(err)
	}
	defer a.Deallocate(p, l)

	nums := (*[16]int64)(p) // pointer-free data only: the GC does not scan blocks
	nums[3] = 42
	fmt.Println(l, nums[3], uintptr(p)%l.Align == 0)
	// Output: Layout{Size: 128, Align: 8} 42 true
}

func ExampleNewLayout() {
	_, err := nalloc.NewLayout(64, 24)
	fmt.Println(err)
	fmt.Println(errors.Is(err, nalloc.ErrInvalidLayout))
	// Output:
	// nalloc: invalid layout: Layout{Size: 64, Align: 24}: Align 24 is not a power of two
	// true
}

func ExampleGrowZeroed() {
	a := nalloc.NewGoHeap()
	small := nalloc.Layout{Size: 4, Align: 4}
	p, _ := a.Allocate(small)
	copy((*[4]byte)(p)[:], "abcd")

	big := nalloc.Layout{Size: 8, Align: 4}
	p, err := nalloc.GrowZeroed(a, p, small, big)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%q\n", (*[8]byte)(p)[:])
	a.Deallocate(p, big)
	// Output: "abcd\x00\x00\x00\x00"
}
