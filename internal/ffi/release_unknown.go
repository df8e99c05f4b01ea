// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build (!go1.26 || go1.28) && linux && (amd64 || arm64) && !nalloc_purego

package ffi

// knownRelease: this Go release was not checked; the switch path stays
// off and TestSwitchOn fails until someone reads the release's runtime
// (see the package doc's "A new Go release") and widens the constraint of
// release_known.go.
const knownRelease = false
