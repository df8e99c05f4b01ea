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
	"github.com/nalloc/nalloc/tcmalloc"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-library" {
		fmt.Println(open(os.Args[2]).(nalloc.Native).Library())
		return
	}
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: gopairs NAME SIZE N")
		os.Exit(2)
	}
	a := open(os.Args[1])
	size, _ := strconv.ParseUint(os.Args[2], 10, 64)
	n, _ := strconv.Atoi(os.Args[3])
	l := nalloc.Layout{Size: uintptr(size), Align: 8}
	pairs(a, l, n)
}

// open opens the backend name. Only a backend that may need static TLS
// re-executes first, and only its own library is loaded: each Reexec
// opens its library, and a second allocator in the process would be
// counted in its start-up and blur callgrind's naming of functions.
func open(name string) nalloc.Allocator {
	switch name {
	case "jemalloc":
		jemalloc.Reexec() // Debian's jemalloc needs static TLS when loaded late
	case "tcmalloc":
		tcmalloc.Reexec() // TCMalloc's TLS on linux/arm64
	}
	a, err := nalloc.Open(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gopairs:", err)
		os.Exit(1)
	}
	return a
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
