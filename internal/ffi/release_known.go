// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build go1.26 && !go1.28 && linux && (amd64 || arm64) && !nalloc_purego

package ffi

// knownRelease: the runtime of this Go release was read for the switch
// path (offsets, signal handler, traceback, preemption, GC) and its
// layout is the one in runtime_linux.go. Go 1.26 and Go 1.27.
const knownRelease = true
