// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package pproftest

import (
	"syscall"
	"testing"
)

// reserve maps n bytes of address space that no one may touch: no page
// is ever backed.
func reserve(t testing.TB, n int) []byte {
	t.Helper()
	mem, err := syscall.Mmap(-1, 0, n, syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		t.Fatalf("mmap %d bytes PROT_NONE: %v", n, err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	return mem
}
