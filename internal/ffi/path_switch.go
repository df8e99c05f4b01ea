// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build linux && (amd64 || arm64) && !nalloc_purego && !nalloc_safecall

package ffi

// The default build: the fast calls switch to the system stack.

const fastPath = PathSwitch

func fast1(fn, a0 uintptr) uintptr             { return switch1(fn, a0) }
func fast4(fn, a0, a1, a2, a3 uintptr) uintptr { return switch4(fn, a0, a1, a2, a3) }

func fastIf(check, checkArg, want, fn, a0, a1, a2, a3 uintptr) (uintptr, bool) {
	return switchIf(check, checkArg, want, fn, a0, a1, a2, a3)
}
