// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !linux && !darwin

package nalloc

import (
	"fmt"
	"runtime"
)

func countProcess(uint64) (uint64, error) {
	return 0, fmt.Errorf("nalloc: the GC pacer counts the process's memory on Linux and macOS, not on %s "+
		"(count given allocators with GCPacerAllocators): %w", runtime.GOOS, ErrUnsupported)
}
