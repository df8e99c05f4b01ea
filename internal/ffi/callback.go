// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package ffi

import (
	"fmt"

	"github.com/ebitengine/purego"
)

// NewCallback returns a C function pointer that calls the Go function fn
// (purego.NewCallback; purego keeps a fixed table of them, so make each
// once). It reports an error where purego has no callbacks.
func NewCallback(fn any) (cb uintptr, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ffi: callbacks from C: %v", r)
		}
	}()
	return purego.NewCallback(fn), nil
}

// CallWithCallback calls fn(a0, a1, a2, a3), a C function that may call
// back into Go through a NewCallback pointer. None of the fast or
// slow paths may make such a call: their argument blocks live on the
// goroutine stack, and a callback runs Go code, which may grow and move
// that stack, in the middle of them. purego.SyscallN is built for it (it
// goes through runtime.cgocall with the callback machinery of cgo), at
// its price: it reflects and allocates.
func CallWithCallback(fn, a0, a1, a2, a3 uintptr) uintptr {
	r, _, _ := purego.SyscallN(fn, a0, a1, a2, a3)
	return r
}
