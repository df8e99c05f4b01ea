// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !linux

package nalloc

// goHeapLimit has no sysinfo to read here: it is a 64 GiB guess, well
// under the runtime's address-space limit.
func goHeapLimit() uint64 { return 64 << 30 }
