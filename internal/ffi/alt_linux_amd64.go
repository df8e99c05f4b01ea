// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build linux && amd64 && !nalloc_purego

package ffi

// MEASUREMENT ONLY: see alt_linux_amd64.s.

func altNoSched1(fn, a0 uintptr) uintptr
func altDirect1K(fn, a0 uintptr) uintptr
func altDirect4K(fn, a0 uintptr) uintptr
func altDirect16K(fn, a0 uintptr) uintptr
func altHybrid1(fn, a0 uintptr) uintptr
