// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !windows

package ffi

import "github.com/ebitengine/purego"

// dlopen opens a library with RTLD_NOW|RTLD_LOCAL (see Load).
func dlopen(name string) (uintptr, error) {
	return purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_LOCAL)
}

// dlsym returns the address of a symbol of the library h.
func dlsym(h uintptr, name string) (uintptr, error) { return purego.Dlsym(h, name) }
