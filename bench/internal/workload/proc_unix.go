// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !windows

package workload

import (
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nalloc/nalloc/osmem"
)

// ResetPeakRSS sets the process's peak RSS (VmHWM) back to its current
// RSS, so that the peak read at the end belongs to the workload, not to
// start-up. It needs Linux 4.0 or later; where it fails, the peak includes
// start-up, which is small and the same for every allocator.
func ResetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// PeakRSS returns VmHWM in bytes, or, if /proc cannot be read,
// getrusage's ru_maxrss.
func PeakRSS() float64 {
	if s, err := osmem.ReadCheap(); err == nil {
		return float64(s.PeakRSS)
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Maxrss) * 1024
}

// cpuTime returns the CPU time of the whole process so far: user and
// system, every thread, the garbage collector's included. The
// single-threaded workloads are timed with it (and so is the C side), so
// that what else runs on the machine does not count, while everything
// the process itself spends, page faults and GC included, does.
func cpuTime() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
