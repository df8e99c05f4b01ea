// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !linux || !(amd64 || arm64) || nalloc_purego

package ffi

import "errors"

// Without this package's assembly (other platforms, or the nalloc_purego
// tag), every path is purego.SyscallN.

const (
	fastPath = PathPurego
	slowPath = PathPurego
)

func fast1(fn, a0 uintptr) uintptr { return purego6(fn, a0, 0, 0, 0, 0, 0) }
func fast4(fn, a0, a1, a2, a3 uintptr) uintptr {
	return purego6(fn, a0, a1, a2, a3, 0, 0)
}

func fastIf(check, checkArg, want, fn, a0, a1, a2, a3 uintptr) (uintptr, bool) {
	return puregoIf(check, checkArg, want, fn, a0, a1, a2, a3)
}

func slow(fn, a0, a1, a2, a3, a4, a5 uintptr) uintptr {
	return purego6(fn, a0, a1, a2, a3, a4, a5)
}

func slow8(fn, a0, a1, a2, a3, a4, a5, a6, a7 uintptr) uintptr {
	return purego8(fn, a0, a1, a2, a3, a4, a5, a6, a7)
}

func slowIf(check, checkArg, want, fn, a0, a1, a2, a3 uintptr) (uintptr, bool) {
	return puregoIf(check, checkArg, want, fn, a0, a1, a2, a3)
}

// errSwitch says why this build has no switch path.
var errSwitch = errors.New("ffi: no switch path in this build: no assembly for this platform, or the nalloc_purego tag")

// StackUse cannot measure in this build: it calls fn and reports ok false.
func StackUse(fn, a0, a1, a2, a3 uintptr) (r, used uintptr, ok bool) {
	return purego6(fn, a0, a1, a2, a3, 0, 0), 0, false
}
