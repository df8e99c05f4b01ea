// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !linux

package pproftest

import "testing"

// reserve is Linux's PROT_NONE mapping; elsewhere TestAccuracy is skipped.
func reserve(t testing.TB, n int) []byte {
	t.Skip("reserving address space is done on Linux only")
	return nil
}
