// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !linux && !darwin

package nalloc

import (
	"fmt"
	"runtime"
)

// countProcess: only Linux's /proc and macOS's task_info give the
// process's anonymous resident memory cheaply (osmem.Resident); elsewhere
// GCPacerAllocators counts given allocators.
func countProcess(uint64) (uint64, error) {
	return 0, fmt.Errorf("%w: the GC pacer's count of the process's memory on %s", ErrUnsupported, runtime.GOOS)
}
