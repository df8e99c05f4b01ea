// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build linux && amd64 && !nalloc_purego

package ffi_test

// MEASUREMENT ONLY: the alternatives of docs/callpath.md, each called
// directly (a func value would add its ABI wrapper's instructions).

import (
	"testing"

	"github.com/nalloc/nalloc/internal/ffi"
)

func init() {
	spawnWork = append(spawnWork,
		pairWork{"switch-nosched", func(m, f uintptr) { ffi.AltNoSched(f, ffi.AltNoSched(m, 64)) }},
		pairWork{"direct-1K", func(m, f uintptr) { ffi.AltDirect1K(f, ffi.AltDirect1K(m, 64)) }},
		pairWork{"direct-4K", func(m, f uintptr) { ffi.AltDirect4K(f, ffi.AltDirect4K(m, 64)) }},
		pairWork{"direct-16K", func(m, f uintptr) { ffi.AltDirect16K(f, ffi.AltDirect16K(m, 64)) }},
		pairWork{"hybrid", func(m, f uintptr) { ffi.AltHybrid(f, ffi.AltHybrid(m, 64)) }},
	)
}

func BenchmarkAlternatives(b *testing.B) {
	libc := loadLibc(b)
	malloc, free := symbol(b, libc, "malloc"), symbol(b, libc, "free")
	b.Run("path=switch-nosched", func(b *testing.B) {
		for b.Loop() {
			ffi.AltNoSched(free, ffi.AltNoSched(malloc, 64))
		}
	})
	b.Run("path=direct-1K", func(b *testing.B) {
		for b.Loop() {
			ffi.AltDirect1K(free, ffi.AltDirect1K(malloc, 64))
		}
	})
	b.Run("path=direct-4K", func(b *testing.B) {
		for b.Loop() {
			ffi.AltDirect4K(free, ffi.AltDirect4K(malloc, 64))
		}
	})
	b.Run("path=direct-16K", func(b *testing.B) {
		for b.Loop() {
			ffi.AltDirect16K(free, ffi.AltDirect16K(malloc, 64))
		}
	})
	b.Run("path=hybrid", func(b *testing.B) {
		for b.Loop() {
			ffi.AltHybrid(free, ffi.AltHybrid(malloc, 64))
		}
	})
}
