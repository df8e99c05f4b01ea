// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build (!linux || !(amd64 || arm64) || nalloc_purego) && !arm64

package ffi

// structCall passes the return buffer as a hidden first argument, as the
// C ABIs of amd64, 386, loong64, ppc64le, riscv64 and s390x do for a
// struct returned in memory.
func structCall(fn, ret, size uintptr, a [5]uintptr) {
	purego6(fn, ret, a[0], a[1], a[2], a[3], a[4])
}
