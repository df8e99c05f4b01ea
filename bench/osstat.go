// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !windows

package main

import (
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nalloc/nalloc/osmem"
)

// The process figures every run reports, as mimalloc-bench reports them
// for each of its runs: elapsed time, user and system CPU, peak resident
// set size (from package osmem) and page faults. Each run is its own
// process (see child.go), so they are the run's own.

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

// procStart is the process's figures when a workload starts.
type procStart struct {
	wall      time.Time
	ru        syscall.Rusage
	peakSoFar float64
}

// startProcess resets the peak RSS and takes the figures a run's process
// figures are measured from: what mimalloc-bench reports of every run.
func startProcess() procStart {
	resetPeakRSS()
	var s procStart
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &s.ru)
	s.wall = time.Now()
	return s
}

// report puts the process figures of the run since s: elapsed (wall)
// time, user and system CPU, minor and major faults, and the peak RSS
// (the highest of the rounds' own peaks, for a workload that reads and
// resets it per round).
func (s procStart) report(e *runEnv) {
	elapsed := time.Since(s.wall)
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	e.put("", mPeakRSS, max(e.peak, peakRSS()))
	e.put("", mFaults, float64(ru.Minflt-s.ru.Minflt))
	e.put("", mMajorFaults, float64(ru.Majflt-s.ru.Majflt))
	e.put("", mElapsed, elapsed.Seconds())
	e.put("", mUserCPU, tvSeconds(ru.Utime)-tvSeconds(s.ru.Utime))
	e.put("", mSysCPU, tvSeconds(ru.Stime)-tvSeconds(s.ru.Stime))
}

func tvSeconds(tv syscall.Timeval) float64 { return float64(tv.Sec) + float64(tv.Usec)/1e6 }

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
