// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build arm64 && (!linux || nalloc_purego)

package ffi

import (
	"reflect"
	"unsafe"

	"github.com/ebitengine/purego"
)

// structCall on arm64 without this package's assembly: AAPCS64 passes the
// address of a struct returned in memory in x8, which purego.SyscallN
// cannot set, so the call goes through purego.RegisterFunc with a function
// type that returns a struct of the same size. It reflects and allocates,
// which is fine for the statistics calls that return structs.
func structCall(fn, ret, size uintptr, a [5]uintptr) {
	if size%8 != 0 {
		panic("ffi: SlowStruct on this build needs a struct whose size is a multiple of 8")
	}
	fields := make([]reflect.StructField, size/8)
	for i := range fields {
		fields[i] = reflect.StructField{Name: "F" + string(rune('A'+i%26)) + string(rune('a'+i/26)), Type: reflect.TypeFor[uint64]()}
	}
	out := reflect.StructOf(fields)
	in := make([]reflect.Type, len(a))
	args := make([]reflect.Value, len(a))
	for i := range a {
		in[i] = reflect.TypeFor[uintptr]()
		args[i] = reflect.ValueOf(a[i])
	}
	fp := reflect.New(reflect.FuncOf(in, []reflect.Type{out}, false))
	purego.RegisterFunc(fp.Interface(), fn)
	r := fp.Elem().Call(args)[0]
	v := reflect.New(out)
	v.Elem().Set(r)
	copy(unsafe.Slice((*byte)(Ptr(ret)), size), unsafe.Slice((*byte)(v.UnsafePointer()), size))
}
