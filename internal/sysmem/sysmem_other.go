// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !linux

// Package sysmem says how much memory a Go heap allocation may ask for
// without risking the process: the "go" allocator and the bump arena's
// Go-heap chunks refuse larger requests with ErrOutOfMemory.
package sysmem

// MaxGoAlloc has no sysinfo to read here: it is a 64 GiB guess, well
// under the runtime's address-space limit.
func MaxGoAlloc() uint64 { return 64 << 30 }
