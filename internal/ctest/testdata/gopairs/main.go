// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// gopairs makes N Allocate+Deallocate pairs of one block through a nalloc
// allocator, as a nalloc.Allocator (an interface call each), for counting
// instructions per pair with callgrind beside pairs.c's count of the same
// pair in C (scripts/icount-pairs runs both).
//
//	gopairs NAME SIZE N
//	gopairs -library NAME   (prints the library NAME loads)
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/nalloc/nalloc"
	_ "github.com/nalloc/nalloc/all"
	"github.com/nalloc/nalloc/jemalloc"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-library" {
		jemalloc.Reexec()
		a, err := nalloc.Open(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, "gopairs:", err)
			os.Exit(1)
		}
		fmt.Println(a.(nalloc.Native).Library())
		return
	}
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: gopairs NAME SIZE N")
		os.Exit(2)
	}
	jemalloc.Reexec() // Debian's jemalloc needs static TLS when loaded late
	a, err := nalloc.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "gopairs:", err)
		os.Exit(1)
	}
	size, _ := strconv.ParseUint(os.Args[2], 10, 64)
	n, _ := strconv.Atoi(os.Args[3])
	l := nalloc.Layout{Size: uintptr(size), Align: 8}
	pairs(a, l, n)
}

//go:noinline
func pairs(a nalloc.Allocator, l nalloc.Layout, n int) {
	for range n {
		p, err := a.Allocate(l)
		if err != nil {
			panic(err)
		}
		a.Deallocate(p, l)
	}
}
