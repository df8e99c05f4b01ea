// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package ffi

import "github.com/ebitengine/purego"

// purego calls fn with purego.SyscallN: portable, but it reflects and
// allocates on each call (docs/callpath.md has the figures). It is every
// path on platforms without this package's assembly, and the nalloc_purego
// build's.
func purego6(fn, a0, a1, a2, a3, a4, a5 uintptr) uintptr {
	r, _, _ := purego.SyscallN(fn, a0, a1, a2, a3, a4, a5)
	return r
}

// purego8 is purego6 for fn(a0, ..., a7).
func purego8(fn, a0, a1, a2, a3, a4, a5, a6, a7 uintptr) uintptr {
	r, _, _ := purego.SyscallN(fn, a0, a1, a2, a3, a4, a5, a6, a7)
	return r
}

// puregoIf is FastIf with two purego.SyscallN calls: nothing keeps the
// goroutine on one thread between them unless it is locked to it.
func puregoIf(check, checkArg, want, fn, a0, a1, a2, a3 uintptr) (r uintptr, ok bool) {
	if purego6(check, checkArg, 0, 0, 0, 0, 0) != want {
		return 0, false
	}
	return purego6(fn, a0, a1, a2, a3, 0, 0), true
}
