// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"errors"
	"github.com/nalloc/nalloc/glibc"
	"github.com/nalloc/nalloc/internal/native"
	"math"
	"strings"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
)

type vec3 struct{ X, Y, Z float64 }

func TestNewDelete(t *testing.T) {
	forEachAllocator(t, func(t *testing.T, tr *tracker) {
		p, err := nalloc.New[flat](tr)
		if err != nil {
			t.Fatal(err)
		}
		for i, b := range unsafe.Slice((*byte)(unsafe.Pointer(p)), unsafe.Sizeof(*p)) {
			if b != 0 {
				t.Fatalf("New returned a value whose byte %d is %#x, not 0", i, b)
			}
		}
		if uintptr(unsafe.Pointer(p))%unsafe.Alignof(*p) != 0 {
			t.Errorf("New returned a misaligned %p", p)
		}
		p.ID, p.Key[15] = 7, 'k'
		if p.ID != 7 || p.Key[15] != 'k' {
			t.Error("the value does not keep what was written")
		}
		nalloc.Delete(tr, p)
		nalloc.Delete[flat](tr, nil)

		e, err := nalloc.New[struct{}](tr)
		if err != nil || e == nil {
			t.Fatalf("New[struct{}] = %p, %v", e, err)
		}
		nalloc.Delete(tr, e)
	})
}

func TestMakeCopyFreeSlice(t *testing.T) {
	forEachAllocator(t, func(t *testing.T, tr *tracker) {
		for _, n := range []int{0, 1, 3, 1000, 100_000} {
			s, err := nalloc.MakeSlice[vec3](tr, n)
			if err != nil {
				t.Fatal(err)
			}
			if len(s) != n || cap(s) != n || s == nil {
				t.Fatalf("MakeSlice(%d): len %d cap %d nil %v", n, len(s), cap(s), s == nil)
			}
			for i := range s {
				if s[i] != (vec3{}) {
					t.Fatalf("MakeSlice(%d)[%d] = %v, not zero", n, i, s[i])
				}
				s[i] = vec3{float64(i), 1, 2}
			}
			c, err := nalloc.CopySlice(tr, s)
			if err != nil {
				t.Fatal(err)
			}
			if len(c) != n || cap(c) != n || (n > 0 && &c[0] == &s[0]) {
				t.Fatalf("CopySlice of %d: len %d cap %d, same memory %v", n, len(c), cap(c), n > 0 && &c[0] == &s[0])
			}
			for i := range c {
				if c[i] != s[i] {
					t.Fatalf("CopySlice[%d] = %v, want %v", i, c[i], s[i])
				}
			}
			nalloc.FreeSlice(tr, s[:n/2]) // a reslice from the start frees the whole block
			nalloc.FreeSlice(tr, c)
		}
		// Zero-size elements need no memory, whatever their number.
		z, err := nalloc.MakeSlice[struct{}](tr, math.MaxInt)
		if err != nil || len(z) != math.MaxInt {
			t.Fatalf("MakeSlice[struct{}](MaxInt): len %d, %v", len(z), err)
		}
		nalloc.FreeSlice(tr, z)
		if e, err := nalloc.CopySlice(tr, []int(nil)); err != nil || len(e) != 0 {
			t.Fatalf("CopySlice(nil) = %v, %v", e, err)
		}
	})
}

func TestMakeSliceInvalid(t *testing.T) {
	a := track(t, nalloc.NewGoHeap())
	for _, n := range []int{-1, math.MinInt, math.MaxInt / 8} {
		if _, err := nalloc.MakeSlice[vec3](a, n); !errors.Is(err, nalloc.ErrInvalidLayout) {
			t.Errorf("MakeSlice(%d) err = %v, want ErrInvalidLayout", n, err)
		}
	}
	a.checkEmpty()
}

func TestCopyString(t *testing.T) {
	forEachAllocator(t, func(t *testing.T, tr *tracker) {
		for _, s := range []string{"", "x", "hello, off-heap world", strings.Repeat("0123456789abcdef", 1<<16)} {
			c, err := nalloc.CopyString(tr, s)
			if err != nil {
				t.Fatal(err)
			}
			if c != s {
				t.Fatalf("CopyString of %d bytes: contents differ", len(s))
			}
			if len(s) > 0 && unsafe.StringData(c) == unsafe.StringData(s) {
				t.Fatal("CopyString returned the same memory")
			}
			if len(s) > 0 && tr.live[uintptr(unsafe.Pointer(unsafe.StringData(c)))].Size != uintptr(len(s)) {
				t.Fatal("CopyString's result is not in a block of its length from the allocator")
			}
			nalloc.FreeString(tr, c)
		}
	})
}

func TestBoxFailures(t *testing.T) {
	tr := track(t, nalloc.NewGoHeap())
	tr.failOn(1, true)
	_, err1 := nalloc.New[vec3](tr)
	_, err2 := nalloc.MakeSlice[vec3](tr, 10)
	_, err3 := nalloc.CopySlice(tr, []vec3{{}})
	_, err4 := nalloc.CopyString(tr, "abc")
	for i, err := range []error{err1, err2, err3, err4} {
		if !errors.Is(err, nalloc.ErrOutOfMemory) {
			t.Errorf("call %d with a refusing allocator: err = %v, want ErrOutOfMemory", i+1, err)
		}
	}
	// Empty results need no memory, so they do not fail.
	if s, err := nalloc.CopyString(tr, ""); s != "" || err != nil {
		t.Errorf(`CopyString("") = %q, %v`, s, err)
	}
	if s, err := nalloc.MakeSlice[vec3](tr, 0); len(s) != 0 || err != nil {
		t.Errorf("MakeSlice(0) = %v, %v", s, err)
	}
	tr.checkEmpty()
}

type bigRecord [1 << 20]byte

// LayoutOf, and the containers built on it, must not put a value of T on
// the Go heap to measure it (a local over 128 KiB would go there).
func TestLargeTypesMakeNoGoAllocations(t *testing.T) {
	if n := testing.AllocsPerRun(10, func() { _ = nalloc.LayoutOf[bigRecord]() }); n != 0 {
		t.Errorf("LayoutOf of a 1 MiB type made %v Go allocations", n)
	}
	g, err := glibc.Open()
	if err != nil {
		t.Fatal(err)
	}
	n := testing.AllocsPerRun(10, func() {
		p, err := nalloc.New[bigRecord](g)
		if err != nil {
			t.Fatal(err)
		}
		nalloc.Delete(g, p)
	})
	// purego.SyscallN, the path without assembly, allocates per call.
	if n != 0 && !native.FastPathAllocates {
		t.Errorf("New+Delete of a 1 MiB type made %v Go allocations", n)
	}
}
