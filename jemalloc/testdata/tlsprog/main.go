// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Command tlsprog opens jemalloc and says how it went, for the static-TLS
// tests of package jemalloc, which build it (with and without cgo, with
// and without the nalloc_jemalloc_linked tag) and run it.
//
//	tlsprog [-reexec]
//
// With -reexec it calls jemalloc.Reexec first, as a program's main would.
// It prints "ok" and what it found, or the error from Open and exits 1.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/ebitengine/purego"
	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/jemalloc"
)

func main() {
	reexec := flag.Bool("reexec", false, "call jemalloc.Reexec first")
	flag.Parse()
	if *reexec {
		if err := jemalloc.Reexec(); err != nil {
			fmt.Println("reexec:", err)
			os.Exit(1)
		}
	}
	a, err := jemalloc.Open()
	if err != nil {
		fmt.Printf("open failed: ErrStaticTLS=%v\n%v\n", errors.Is(err, jemalloc.ErrStaticTLS), err)
		os.Exit(1)
	}
	l := nalloc.Layout{Size: 64, Align: 8}
	p, err := a.Allocate(l)
	if err != nil {
		fmt.Println("allocate:", err)
		os.Exit(1)
	}
	a.Deallocate(p, l)
	fmt.Printf("ok reexecuted=%v malloc-is-glibc=%v GLIBC_TUNABLES=%s\n",
		os.Getenv("NALLOC_JEMALLOC_REEXEC") != "", mallocIsGlibc(), os.Getenv("GLIBC_TUNABLES"))
}

// mallocIsGlibc reports whether the process's malloc, the one any C code
// calls, is still glibc's: jemalloc must not have replaced it.
func mallocIsGlibc() bool {
	libc, err := purego.Dlopen("libc.so.6", purego.RTLD_NOW)
	if err != nil {
		return false
	}
	global, err1 := purego.Dlsym(purego.RTLD_DEFAULT, "malloc")
	glibc, err2 := purego.Dlsym(libc, "malloc")
	return err1 == nil && err2 == nil && global == glibc
}
