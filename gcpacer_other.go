// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !linux

package nalloc

import (
	"errors"
	"runtime"
)

func countProcess(uint64) (uint64, error) {
	return 0, errors.New("nalloc: the GC pacer counts the process's memory through Linux's /proc, not on " +
		runtime.GOOS + "; count given allocators instead with GCPacerAllocators")
}
