// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package workload

import (
	"syscall"
	"time"
	"unsafe"
)

// On Windows a run's peak RSS is its peak working set (psapi's
// GetProcessMemoryInfo), which cannot be reset: it includes start-up.
// CPU time comes from GetProcessTimes.

// ResetPeakRSS does nothing: Windows keeps the peak working set for the
// life of the process.
func ResetPeakRSS() {}

// PeakRSS returns the peak working set in bytes, or 0 if it cannot be
// read.
func PeakRSS() float64 {
	c, ok := MemoryCounters()
	if !ok {
		return 0
	}
	return float64(c.PeakWorkingSetSize)
}

// cpuTime returns the CPU time of the whole process so far, user and
// kernel (see proc_unix.go).
func cpuTime() time.Duration {
	user, sys := ProcessTimes()
	return time.Duration((user + sys) * 1e9)
}

// ProcessTimes returns the process's user and kernel CPU seconds.
func ProcessTimes() (user, sys float64) {
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

// ProcessMemoryCounters is psapi.h's PROCESS_MEMORY_COUNTERS.
type ProcessMemoryCounters struct {
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

// MemoryCounters calls GetProcessMemoryInfo for this process.
func MemoryCounters() (ProcessMemoryCounters, bool) {
	var c ProcessMemoryCounters
	c.CB = uint32(unsafe.Sizeof(c))
	h, err := syscall.GetCurrentProcess()
	if err != nil || getProcessMemoryInfo.Find() != nil {
		return c, false
	}
	r, _, _ := getProcessMemoryInfo.Call(uintptr(h), uintptr(unsafe.Pointer(&c)), uintptr(c.CB))
	return c, r != 0
}
