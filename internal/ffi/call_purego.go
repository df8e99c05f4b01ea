// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package ffi

import "github.com/ebitengine/purego"

// Purego calls fn with purego.SyscallN: portable, but it reflects and
// allocates on each call (see the package doc for the figures).
func Purego(fn, a0, a1, a2, a3, a4, a5 uintptr) uintptr {
	r, _, _ := purego.SyscallN(fn, a0, a1, a2, a3, a4, a5)
	return r
}

// Purego8 is Purego for fn(a0, ..., a7).
func Purego8(fn, a0, a1, a2, a3, a4, a5, a6, a7 uintptr) uintptr {
	r, _, _ := purego.SyscallN(fn, a0, a1, a2, a3, a4, a5, a6, a7)
	return r
}
