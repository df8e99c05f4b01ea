// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !linux || !amd64 || nalloc_purego

package ffi

// Without assembly for this architecture (or with the nalloc_purego tag),
// every path is purego.SyscallN.

const (
	fastPath     = PathPurego
	blockingPath = PathPurego
)

// DirectFrame is 0: there is no direct path in this build.
const DirectFrame = 0

// Direct is Purego in this build.
func Direct(fn, a0, a1, a2, a3 uintptr) uintptr { return Purego(fn, a0, a1, a2, a3, 0, 0) }

// System is Purego in this build.
func System(fn, a0, a1, a2, a3, a4, a5 uintptr) uintptr {
	return Purego(fn, a0, a1, a2, a3, a4, a5)
}

// Blocking is Purego in this build.
func Blocking(fn, a0, a1, a2, a3, a4, a5 uintptr) uintptr {
	return Purego(fn, a0, a1, a2, a3, a4, a5)
}

func blocking8(fn, a0, a1, a2, a3, a4, a5, a6, a7 uintptr) uintptr {
	return Purego8(fn, a0, a1, a2, a3, a4, a5, a6, a7)
}

// StackUse cannot measure in this build: it calls fn and reports ok false.
func StackUse(fn, a0, a1, a2, a3 uintptr) (r, used uintptr, ok bool) {
	return Purego(fn, a0, a1, a2, a3, 0, 0), 0, false
}
