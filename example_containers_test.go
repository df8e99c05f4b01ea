// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/nalloc/nalloc"
)

func ExampleVec() {
	a, err := nalloc.Open("glibc") // or "jemalloc", "mimalloc", "tcmalloc", "tbbmalloc", "bump", "go"
	if err != nil {
		panic(err)
	}
	type point struct{ X, Y int32 } // pointer-free: it may live off-heap

	v, err := nalloc.NewVec[point](a, 0)
	if err != nil {
		panic(err)
	}
	defer v.Free() // the GC does not free it

	for i := range int32(5) {
		if err := v.Append(point{i, i * i}); err != nil {
			panic(err) // out of memory: v is as it was
		}
	}
	s := v.Slice() // a view, valid until v grows or is freed
	s[0].X = 42
	fmt.Println(v.Len(), s)

	v.Truncate(2)
	fmt.Println(v.Slice(), v.Cap())
	// Output:
	// 5 [{42 0} {1 1} {2 4} {3 9} {4 16}]
	// [{42 0} {1 1}] 8
}

func ExampleMap() {
	a, err := nalloc.Open("glibc")
	if err != nil {
		panic(err)
	}
	m, err := nalloc.NewMap[uint64, [2]float64](a, 0)
	if err != nil {
		panic(err)
	}
	defer m.Close() // gives the groups back

	m.Put(7, [2]float64{1.5, 2})
	m.Put(9, [2]float64{3, 4})
	if err := m.TryPut(11, [2]float64{5, 6}); err != nil {
		fmt.Println("over budget:", err) // the map is as it was
	}
	m.Delete(9)
	v, ok := m.Get(7)
	fmt.Println(m.Len(), v, ok)

	got := maps.Collect(m.All()) // All's order is random, as with a Go map
	keys := slices.Sorted(maps.Keys(got))
	fmt.Println(keys)

	// Types with Go pointers are refused: the GC could not see them.
	_, err = nalloc.NewMap[uint64, string](a, 0)
	fmt.Println(errors.Is(err, nalloc.ErrPointerType))
	// Output:
	// 2 [1.5 2] true
	// [7 11]
	// true
}

func ExampleCheckPointerFree() {
	type tag struct {
		ID   uint32
		Name string
	}
	type rec struct {
		Key  uint64
		Tags [4]tag
	}
	fmt.Println(nalloc.CheckPointerFree[rec]())
	fmt.Println(nalloc.CheckPointerFree[[4]struct{ ID, Name uint32 }]())
	// Output:
	// nalloc: type holds Go pointers: rec.Tags[0].Name is a string; the garbage collector does not scan allocator memory, so use fixed-size arrays and integer indexes instead of pointers, strings and slices
	// <nil>
}

func ExampleCopyString() {
	a := nalloc.NewGoHeap()
	s, err := nalloc.CopyString(a, "copied into allocator memory")
	if err != nil {
		panic(err)
	}
	fmt.Println(s[:6])
	nalloc.FreeString(a, s) // s, and s[:6], are invalid from here on
	// Output: copied
}

func ExampleNew() {
	a, _ := nalloc.Open("glibc")
	type counters struct{ Hits, Misses uint64 }
	c, err := nalloc.New[counters](a) // zeroed
	if err != nil {
		panic(err)
	}
	c.Hits++
	fmt.Printf("%+v\n", *c)
	nalloc.Delete(a, c)
	// Output: {Hits:1 Misses:0}
}
