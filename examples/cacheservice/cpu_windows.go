// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"fmt"
	"syscall"
)

// processCPU returns the process's user and kernel CPU seconds
// (GetProcessTimes).
func processCPU() (float64, error) {
	h, err := syscall.GetCurrentProcess()
	if err != nil {
		return 0, fmt.Errorf("GetCurrentProcess: %w", err)
	}
	var creation, exit, kernel, user syscall.Filetime
	if err := syscall.GetProcessTimes(h, &creation, &exit, &kernel, &user); err != nil {
		return 0, fmt.Errorf("GetProcessTimes: %w", err)
	}
	// A Filetime here is a count of 100 ns intervals, not a date.
	ticks := func(f syscall.Filetime) float64 { return float64(uint64(f.HighDateTime)<<32 | uint64(f.LowDateTime)) }
	return (ticks(kernel) + ticks(user)) / 1e7, nil
}
