// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build linux && amd64 && !nalloc_purego

package ffi

// MEASUREMENT ONLY: inlinable wrappers, so that a benchmark calls each
// alternative's assembly directly, as FastN calls the switch.

func AltNoSched(fn, a0 uintptr) uintptr   { return altNoSched1(fn, a0) }
func AltDirect1K(fn, a0 uintptr) uintptr  { return altDirect1K(fn, a0) }
func AltDirect4K(fn, a0 uintptr) uintptr  { return altDirect4K(fn, a0) }
func AltDirect16K(fn, a0 uintptr) uintptr { return altDirect16K(fn, a0) }
func AltHybrid(fn, a0 uintptr) uintptr    { return altHybrid1(fn, a0) }
