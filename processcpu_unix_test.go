// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !windows

package nalloc_test

import (
	"math"
	"syscall"
	"time"
)

// processCPU returns the CPU seconds this process has used, user and
// system: unlike the runtime's GC CPU estimate, which counts the wall time
// its workers hold a P, it does not grow when other processes take the
// machine's cores.
func processCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return math.NaN()
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
