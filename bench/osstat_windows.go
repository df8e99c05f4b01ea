// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"syscall"
	"time"
	"unsafe"
)

// On Windows a run reports its elapsed time, its CPU (GetProcessTimes),
// its peak working set as the peak RSS and its page faults, soft and hard
// together (psapi's GetProcessMemoryInfo); Windows does not count major
// faults apart, so that figure is not reported. The peak cannot be reset:
// it includes start-up.

// procStart is the process's figures when a workload starts.
type procStart struct {
	wall      time.Time
	user, sys float64
	faults    uint32
}

// resetPeakRSS does nothing: Windows keeps the peak working set for the
// life of the process.
func resetPeakRSS() {}

// peakRSS returns the peak working set in bytes, or 0 if it cannot be
// read.
func peakRSS() float64 {
	c, ok := memoryCounters()
	if !ok {
		return 0
	}
	return float64(c.PeakWorkingSetSize)
}

// startProcess takes the figures a run's process figures are measured
// from.
func startProcess() procStart {
	s := procStart{wall: time.Now()}
	s.user, s.sys = processTimes()
	if c, ok := memoryCounters(); ok {
		s.faults = c.PageFaultCount
	}
	return s
}

// report puts the process figures of the run since s.
func (s procStart) report(e *runEnv) {
	elapsed := time.Since(s.wall)
	user, sys := processTimes()
	if c, ok := memoryCounters(); ok {
		e.put("", mPeakRSS, max(e.peak, float64(c.PeakWorkingSetSize)))
		e.put("", mFaults, float64(c.PageFaultCount-s.faults))
	}
	e.put("", mElapsed, elapsed.Seconds())
	e.put("", mUserCPU, user-s.user)
	e.put("", mSysCPU, sys-s.sys)
}

// cpuTime returns the CPU time of the whole process so far, user and
// kernel (see osstat.go).
func cpuTime() time.Duration {
	user, sys := processTimes()
	return time.Duration((user + sys) * 1e9)
}

// processTimes returns the process's user and kernel CPU seconds.
func processTimes() (user, sys float64) {
	h, err := syscall.GetCurrentProcess()
	if err != nil {
		return 0, 0
	}
	var creation, exit, kernel, usr syscall.Filetime
	if syscall.GetProcessTimes(h, &creation, &exit, &kernel, &usr) != nil {
		return 0, 0
	}
	// These Filetimes count 100 ns intervals; they are not dates.
	ticks := func(f syscall.Filetime) float64 {
		return float64(uint64(f.HighDateTime)<<32|uint64(f.LowDateTime)) / 1e7
	}
	return ticks(usr), ticks(kernel)
}

// processMemoryCounters is psapi.h's PROCESS_MEMORY_COUNTERS.
type processMemoryCounters struct {
	CB                         uint32
	PageFaultCount             uint32
	PeakWorkingSetSize         uintptr
	WorkingSetSize             uintptr
	QuotaPeakPagedPoolUsage    uintptr
	QuotaPagedPoolUsage        uintptr
	QuotaPeakNonPagedPoolUsage uintptr
	QuotaNonPagedPoolUsage     uintptr
	PagefileUsage              uintptr
	PeakPagefileUsage          uintptr
}

var getProcessMemoryInfo = syscall.NewLazyDLL("psapi.dll").NewProc("GetProcessMemoryInfo")

// memoryCounters calls GetProcessMemoryInfo for this process.
func memoryCounters() (processMemoryCounters, bool) {
	var c processMemoryCounters
	c.CB = uint32(unsafe.Sizeof(c))
	h, err := syscall.GetCurrentProcess()
	if err != nil || getProcessMemoryInfo.Find() != nil {
		return c, false
	}
	r, _, _ := getProcessMemoryInfo.Call(uintptr(h), uintptr(unsafe.Pointer(&c)), uintptr(c.CB))
	return c, r != 0
}
