// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package jemalloc_test

import (
	"errors"
	"fmt"
	"log"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/jemalloc"
)

func Example() {
	a, err := jemalloc.Open()
	if err != nil {
		// nalloc.ErrLibraryNotFound: apt-get install libjemalloc2.
		// jemalloc.ErrStaticTLS: see Reexec.
		log.Fatal(err)
	}
	l := nalloc.Layout{Size: 1000, Align: 64}
	p, err := a.Allocate(l) // mallocx(1000, MALLOCX_LG_ALIGN(6))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(uintptr(p)%64 == 0, a.UsableSize(p), a.SizeClass(l))
	a.Deallocate(p, l) // sdallocx: the size class comes from l

	// A 32 MiB block shows in jemalloc's own figures.
	big := nalloc.Layout{Size: 32 << 20, Align: 4096}
	before, _ := a.Stats()
	p, _ = a.Allocate(big)
	during, _ := a.Stats()
	a.Deallocate(p, big)
	// Stats are process-wide: round to the MiB, other activity is noise.
	grew := int64(during.Allocated) - int64(before.Allocated)
	fmt.Println("allocated grew by", (grew+1<<19)>>20, "MiB")
	// Output:
	// true 1024 1024
	// allocated grew by 32 MiB
}

func ExampleMallctl() {
	a, err := jemalloc.Open()
	if err != nil {
		log.Fatal(err)
	}
	stats, _ := jemalloc.Mallctl[bool](a, "config.stats")
	page, _ := jemalloc.Mallctl[uint64](a, "arenas.page")
	fmt.Println("config.stats:", stats, "arenas.page:", page)

	// Writing: give arena 0's dirty pages back to the OS after 1 s
	// rather than the default 10 s.
	if err := jemalloc.SetMallctl(a, "arena.0.dirty_decay_ms", int64(1000)); err != nil {
		log.Fatal(err)
	}
	decay, _ := jemalloc.Mallctl[int64](a, "arena.0.dirty_decay_ms")
	fmt.Println("arena.0.dirty_decay_ms:", decay)
	jemalloc.SetMallctl(a, "arena.0.dirty_decay_ms", int64(10000))

	// Mistakes say what to do.
	_, err = jemalloc.Mallctl[uint64](a, "config.stats")
	fmt.Println(errors.Is(err, jemalloc.ErrMallctlValue), err)
	// Output:
	// config.stats: true arenas.page: 4096
	// arena.0.dirty_decay_ms: 1000
	// true jemalloc: mallctl "config.stats" (read as uint64): EINVAL: its C type is 1 byte(s) wide: use bool
}

func ExampleAllocator_NewHeap() {
	a, err := jemalloc.Open()
	if err != nil {
		log.Fatal(err)
	}
	cache, err := a.NewHeap() // one arena per purpose: here, a cache
	if err != nil {
		log.Fatal(err)
	}
	l := nalloc.Layout{Size: 1000, Align: 8}
	for range 1000 {
		if _, err := cache.Allocate(l); err != nil {
			log.Fatal(err)
		}
	}
	s, _ := cache.DetailedStats() // exact: no thread cache holds an arena's blocks
	fmt.Println("the cache holds", s.Allocated, "bytes")

	// Destroy frees every block at once, and the arena with them.
	if err := cache.Destroy(); err != nil {
		log.Fatal(err)
	}
	_, err = cache.Allocate(l)
	fmt.Println(errors.Is(err, jemalloc.ErrHeapClosed))
	// Output:
	// the cache holds 1024000 bytes
	// true
}

func ExampleHeap_Purge() {
	a, err := jemalloc.Open()
	if err != nil {
		log.Fatal(err)
	}
	ar, err := a.NewHeap()
	if err != nil {
		log.Fatal(err)
	}
	defer ar.Destroy()
	l := nalloc.Layout{Size: 1 << 20, Align: 4096}
	var ps []unsafe.Pointer
	for range 8 {
		p, _ := ar.Allocate(l)
		clear(unsafe.Slice((*byte)(p), l.Size)) // touch the pages
		ps = append(ps, p)
	}
	for _, p := range ps {
		ar.Deallocate(p, l) // the pages stay, dirty, for reuse
	}

	freed, _ := ar.DetailedStats()
	ar.Purge()
	purged, _ := ar.DetailedStats()
	fmt.Println("dirty after free:", freed.Dirty>>20, "MiB; after Purge:", purged.Dirty)
	// Output: dirty after free: 8 MiB; after Purge: 0
}

func ExampleReexec() {
	// First thing in main: if Debian's libjemalloc.so.2 cannot be loaded
	// for lack of static TLS, start over with the glibc tunable that
	// makes room for it. Otherwise this does nothing.
	if err := jemalloc.Reexec(); err != nil {
		log.Printf("jemalloc unavailable: %v", err) // the program may go on without it
	}
	// ... the program, which can now open jemalloc.
}
