// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build nalloc_asmcgocall && go1.27 && !nalloc_purego && !nalloc_safecall

package ffi

// The nalloc_asmcgocall tag needs Go 1.26: Go 1.27's linker refuses a
// reference to runtime.asmcgocall from outside the runtime. This line
// stops the build with that message; the default build's switch path is
// the same design without the runtime symbol.
const _ = "nalloc_asmcgocall needs Go 1.26: Go 1.27 refuses runtime.asmcgocall; build without the tag" + 0
