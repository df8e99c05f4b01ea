// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package arrowalloc_test

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/math"
	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/arrowalloc"
	_ "github.com/nalloc/nalloc/mimalloc" // registers "mimalloc"
)

// Arrow's builders on mimalloc, without cgo, with nalloc's Counting
// between them to show where the memory is.
func Example() {
	a, err := nalloc.Open("mimalloc")
	if err != nil {
		fmt.Println(err) // wraps nalloc.ErrLibraryNotFound: apt-get install libmimalloc2.0
		return
	}
	counted := nalloc.NewCounting(a)
	mem := arrowalloc.New(counted)

	b := array.NewInt64Builder(mem)
	for i := range 1000 {
		if i%10 == 0 {
			b.AppendNull()
		} else {
			b.Append(int64(i))
		}
	}
	arr := b.NewInt64Array()
	b.Release()
	fmt.Println("sum:", math.Int64.Sum(arr), "nulls:", arr.NullN())
	fmt.Println("bytes in mimalloc while the array lives:", counted.Counts().LiveBytes)

	arr.Release()
	fmt.Println("bytes in mimalloc after Release:", counted.Counts().LiveBytes)
	// Output:
	// sum: 450000 nulls: 100
	// bytes in mimalloc while the array lives: 8128
	// bytes in mimalloc after Release: 0
}
