// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"errors"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
)

type tag struct {
	N    int32
	Name string
}

type record struct {
	ID   uint64
	Tags [4]tag
}

type inner struct{ P *int }

type outer struct {
	A [2]uint16
	inner
}

type pair[K, V any] struct {
	K K
	V V
}

type flat struct {
	ID    uint64
	Key   [16]byte
	Score float64
	Flags [3]bool
	Pos   struct{ X, Y float32 }
	_     [0]func() // makes flat incomparable; holds nothing
	Empty struct{}
	None  [0]*int
}

func TestCheckPointerFree(t *testing.T) {
	tests := []struct {
		check func() error
		path  string // "" for pointer-free
		what  string
	}{
		{nalloc.CheckPointerFree[int], "", ""},
		{nalloc.CheckPointerFree[complex128], "", ""},
		{nalloc.CheckPointerFree[uintptr], "", ""},
		{nalloc.CheckPointerFree[[8]float32], "", ""},
		{nalloc.CheckPointerFree[struct{}], "", ""},
		{nalloc.CheckPointerFree[[0]string], "", ""},
		{nalloc.CheckPointerFree[flat], "", ""},
		{nalloc.CheckPointerFree[pair[int, [2]byte]], "", ""},

		{nalloc.CheckPointerFree[*int], "*int", "a pointer (*int)"},
		{nalloc.CheckPointerFree[string], "string", "a string"},
		{nalloc.CheckPointerFree[[]byte], "[]uint8", "a slice ([]uint8)"},
		{nalloc.CheckPointerFree[map[int]int], "map[int]int", "a map (map[int]int)"},
		{nalloc.CheckPointerFree[chan int], "chan int", "a channel (chan int)"},
		{nalloc.CheckPointerFree[func()], "func()", "a func (func())"},
		{nalloc.CheckPointerFree[any], "interface {}", "an interface (interface {})"},
		{nalloc.CheckPointerFree[error], "error", "an interface (error)"},
		{nalloc.CheckPointerFree[unsafe.Pointer], "unsafe.Pointer", "an unsafe.Pointer"},
		{nalloc.CheckPointerFree[record], "record.Tags[0].Name", "a string"},
		{nalloc.CheckPointerFree[[3]record], "([3]nalloc_test.record)[0].Tags[0].Name", "a string"},
		{nalloc.CheckPointerFree[outer], "outer.inner.P", "a pointer (*int)"},
		{nalloc.CheckPointerFree[[2][3]*int], "([2][3]*int)[0][0]", "a pointer (*int)"},
		{nalloc.CheckPointerFree[struct {
			A int
			B struct{ C []int }
		}], "(struct { A int; B struct { C []int } }).B.C", "a slice ([]int)"},
		{nalloc.CheckPointerFree[pair[int, string]], "pair[int,string].V", "a string"},
		{nalloc.CheckPointerFree[struct {
			_ [1]func()
		}], "(struct { _ [1]func() })._[0]", "a func (func())"},
	}
	for _, tt := range tests {
		err := tt.check()
		if tt.path == "" {
			if err != nil {
				t.Errorf("pointer-free type refused: %v", err)
			}
			continue
		}
		var pe *nalloc.PointerTypeError
		if !errors.Is(err, nalloc.ErrPointerType) || !errors.As(err, &pe) {
			t.Errorf("want ErrPointerType at %s, got %v", tt.path, err)
			continue
		}
		if pe.Path != tt.path || pe.What != tt.what {
			t.Errorf("%v: path %q is %q, want %q is %q", pe.Type, pe.Path, pe.What, tt.path, tt.what)
		}
		if want := "nalloc: type holds Go pointers: " + tt.path + " is " + tt.what + ";"; err.Error()[:len(want)] != want {
			t.Errorf("error %q does not start with %q", err, want)
		}
		if tt.check() != err {
			t.Errorf("%v: the second check did not return the cached error", pe.Type)
		}
	}
}

func TestCheckPointerFreeCachedWithoutAllocating(t *testing.T) {
	nalloc.CheckPointerFree[record]()
	nalloc.CheckPointerFree[flat]()
	if n := testing.AllocsPerRun(100, func() {
		nalloc.CheckPointerFree[record]()
		nalloc.CheckPointerFree[flat]()
		nalloc.CheckPointerFree[int64]()
	}); n != 0 {
		t.Errorf("cached checks allocate %v times", n)
	}
}

// Every constructor refuses a pointerful element type, naming the path.
func TestContainersRefusePointerTypes(t *testing.T) {
	a := nalloc.NewGoHeap()
	_, err1 := nalloc.New[record](a)
	_, err2 := nalloc.MakeSlice[record](a, 4)
	_, err3 := nalloc.CopySlice(a, []record{{}})
	_, err4 := nalloc.NewVec[record](a, 0)
	_, err5 := nalloc.NewMap[uint64, record](a, 0)
	_, err6 := nalloc.NewMap[record, uint64](a, 0)
	_, err7 := nalloc.NewMap[[2]uint64, *int](a, 0)
	for i, err := range []error{err1, err2, err3, err4, err5, err6} {
		var pe *nalloc.PointerTypeError
		if !errors.As(err, &pe) || pe.Path != "record.Tags[0].Name" {
			t.Errorf("constructor %d: err = %v, want ErrPointerType at record.Tags[0].Name", i+1, err)
		}
	}
	if !errors.Is(err7, nalloc.ErrPointerType) {
		t.Errorf("NewMap with a pointer value: err = %v", err7)
	}
}
