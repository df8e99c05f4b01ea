// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package ffi

import "syscall"

// dlopen loads a DLL with LoadLibrary: Windows resolves every import of a
// DLL at load and keeps its symbols to itself, which is what RTLD_NOW and
// RTLD_LOCAL ask of dlopen elsewhere.
func dlopen(name string) (uintptr, error) {
	h, err := syscall.LoadLibrary(name)
	return uintptr(h), err
}

// dlsym returns the address of an exported function of the DLL h.
func dlsym(h uintptr, name string) (uintptr, error) {
	return syscall.GetProcAddress(syscall.Handle(h), name)
}
