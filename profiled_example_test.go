// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"bytes"
	"compress/gzip"
	"fmt"

	"github.com/nalloc/nalloc"
)

func ExampleNewProfiled() {
	// A service keeps the default rate (a sample per 512 KiB on average);
	// rate 1 samples every block, for exact figures.
	p := nalloc.NewProfiled(nalloc.NewGoHeap(), nalloc.ProfileRate(1))
	l := nalloc.Layout{Size: 1 << 20, Align: 64}
	ptr, err := p.Allocate(l)
	if err != nil {
		panic(err)
	}
	defer p.Deallocate(ptr, l)

	// Serve it with nallocpprof.Handler, or write it to a file and run
	// go tool pprof -top nalloc.pb.gz: this block shows as 1MB in use at
	// ExampleNewProfiled.
	var buf bytes.Buffer
	if err := p.WriteHeapProfile(&buf); err != nil {
		panic(err)
	}
	_, err = gzip.NewReader(&buf)
	fmt.Println("gzipped profile.proto:", err == nil)
	// Output:
	// gzipped profile.proto: true
}
