// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build linux && (amd64 || arm64) && !nalloc_purego && nalloc_safecall

package ffi

// The nalloc_safecall build: every call goes through runtime.cgocall, so
// that a stop-the-world never waits for C.

const fastPath = PathCgocall

func fast1(fn, a0 uintptr) uintptr { return slow(fn, a0, 0, 0, 0, 0, 0) }
func fast4(fn, a0, a1, a2, a3 uintptr) uintptr {
	return slow(fn, a0, a1, a2, a3, 0, 0)
}

func fastIf(check, checkArg, want, fn, a0, a1, a2, a3 uintptr) (uintptr, bool) {
	return slowIf(check, checkArg, want, fn, a0, a1, a2, a3)
}
