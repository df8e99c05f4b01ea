// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build linux && (amd64 || arm64) && !nalloc_purego

package ffi_test

import "github.com/nalloc/nalloc/internal/ffi"

// The switch path is tested in every build that has it, whichever path
// FastN takes there.
func init() {
	paths = append(paths, callPath{"switch", ffi.Switch4})
	ifPaths = append(ifPaths, ifPath{"switch", ffi.SwitchIf})
}
