// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import (
	"fmt"
	"reflect"
	"sync"
	"unsafe"
)

// pointerFreeCache holds, for every type checked so far, nil if the type is
// pointer-free, or the *PointerTypeError that says where its first pointer
// is. A type is walked once per process.
var pointerFreeCache sync.Map // reflect.Type -> error

// CheckPointerFree returns nil if values of type T hold no Go pointers, and
// may therefore live in Allocator memory, which the garbage collector does
// not scan. Otherwise it returns an error wrapping ErrPointerType that names
// the first offending field, as a path from the type's name:
//
//	nalloc: type holds Go pointers: Rec.Tags[0].Name is a string
//
// Pointers, strings, slices, maps, channels, funcs, interfaces and
// unsafe.Pointer count wherever they sit: in struct fields, array
// elements, nested to any depth. Arrays are named by their element 0,
// since every element has the same type. Zero-length arrays and empty
// structs hold nothing, so [0]*int and struct{ _ [0]func() } are
// pointer-free, as the garbage collector sees them too.
//
// The containers of this package (New, MakeSlice, CopySlice, NewVec,
// NewMap) call it on their element types. The answer is computed once per
// type and cached; CheckPointerFree is safe for concurrent use.
func CheckPointerFree[T any]() error {
	t := reflect.TypeFor[T]()
	if scalar(t.Kind()) {
		return nil // the common case, without the cache
	}
	return checkType(t)
}

func scalar(k reflect.Kind) bool {
	return reflect.Bool <= k && k <= reflect.Complex128 // bools, ints, uints, uintptr, floats, complexes
}

func checkType(t reflect.Type) error {
	if err, ok := pointerFreeCache.Load(t); ok {
		if err == nil {
			return nil
		}
		return err.(error)
	}
	var err error
	if path, what := findPointer(t, rootName(t)); what != "" {
		err = &PointerTypeError{Type: t, Path: path, What: what}
	}
	pointerFreeCache.Store(t, err)
	return err
}

// rootName is how a path starts: a struct's or array's own name (Rec),
// or its literal in parentheses when it has none (([4]*int)[0]); any other
// type is named in full (unsafe.Pointer, *int), since no path follows.
func rootName(t reflect.Type) string {
	switch {
	case t.Kind() != reflect.Array && t.Kind() != reflect.Struct:
		return t.String()
	case t.Name() != "":
		return t.Name()
	}
	return "(" + t.String() + ")"
}

// findPointer returns the path to the first pointer-holding part of t, and
// what that part is ("a string"), or "", "" if t is pointer-free.
func findPointer(t reflect.Type, path string) (string, string) {
	switch t.Kind() {
	case reflect.Array:
		if t.Len() == 0 {
			return "", ""
		}
		return findPointer(t.Elem(), path+"[0]")
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if p, what := findPointer(f.Type, path+"."+f.Name); what != "" {
				return p, what
			}
		}
		return "", ""
	case reflect.Pointer:
		return path, "a pointer (" + t.String() + ")"
	case reflect.String:
		return path, "a string"
	case reflect.Slice:
		return path, "a slice (" + t.String() + ")"
	case reflect.Map:
		return path, "a map (" + t.String() + ")"
	case reflect.Chan:
		return path, "a channel (" + t.String() + ")"
	case reflect.Func:
		return path, "a func (" + t.String() + ")"
	case reflect.Interface:
		return path, "an interface (" + t.String() + ")"
	case reflect.UnsafePointer:
		return path, "an unsafe.Pointer"
	}
	return "", ""
}

// PointerTypeError is the error of CheckPointerFree and of the containers'
// constructors for a type that holds Go pointers. It wraps ErrPointerType.
type PointerTypeError struct {
	Type reflect.Type // the type that was refused
	Path string       // where its first pointer is: "Rec.Tags[0].Name"
	What string       // what is there: "a string", "a pointer (*int)"
}

func (e *PointerTypeError) Error() string {
	return fmt.Sprintf("%v: %s is %s; the garbage collector does not scan allocator memory, "+
		"so use fixed-size arrays and integer indexes instead of pointers, strings and slices",
		ErrPointerType, e.Path, e.What)
}

func (e *PointerTypeError) Unwrap() error { return ErrPointerType }

// zeroBase is where slices of zero-size elements, and empty slices, point:
// they need no memory, so they get none from an allocator and are never
// given back to one. (Go's own zero-size allocations share
// runtime.zerobase the same way.) It is 8-aligned, the largest alignment a
// Go type has.
var zeroBase uint64

// emptySlice returns a slice of n elements that needs no memory: n is 0 or
// T has size 0.
func emptySlice[T any](n int) []T {
	return unsafe.Slice((*T)(unsafe.Pointer(&zeroBase)), n)
}
