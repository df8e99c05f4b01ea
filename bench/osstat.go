// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"os"
	"syscall"

	"github.com/nalloc/nalloc/osmem"
)

// The process figures every run reports: peak resident set size (from
// package osmem) and minor page faults. Each run is its own process (see
// child.go), so both are the run's own.

// resetPeakRSS sets the process's peak RSS (VmHWM) back to its current
// RSS, so that the peak read at the end belongs to the workload, not to
// start-up. It needs Linux 4.0 or later; where it fails, the peak includes
// start-up, which is small and the same for every allocator.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS returns VmHWM in bytes, or, if /proc cannot be read,
// getrusage's ru_maxrss.
func peakRSS() float64 {
	if s, err := osmem.ReadCheap(); err == nil {
		return float64(s.PeakRSS)
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Maxrss) * 1024
}

// minorFaults returns the process's minor page faults so far
// (getrusage alone: no /proc read between a run's two readings).
func minorFaults() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Minflt)
}
