// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !linux || !amd64 || nalloc_purego

package ffi

// DirectIf is PuregoIf in this build.
func DirectIf(check, checkArg, want, fn, a0, a1, a2, a3 uintptr) (uintptr, bool) {
	return PuregoIf(check, checkArg, want, fn, a0, a1, a2, a3)
}

// SystemIf is PuregoIf in this build.
func SystemIf(check, checkArg, want, fn, a0, a1, a2, a3 uintptr) (uintptr, bool) {
	return PuregoIf(check, checkArg, want, fn, a0, a1, a2, a3)
}

// BlockingIf is PuregoIf in this build.
func BlockingIf(check, checkArg, want, fn, a0, a1, a2, a3 uintptr) (uintptr, bool) {
	return PuregoIf(check, checkArg, want, fn, a0, a1, a2, a3)
}
