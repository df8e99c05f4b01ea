// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package run

import (
	"time"

	"github.com/nalloc/nalloc/bench/internal/metric"
	"github.com/nalloc/nalloc/bench/internal/workload"
)

// On Windows a run reports its elapsed time, its CPU (GetProcessTimes),
// its peak working set as the peak RSS and its page faults, soft and hard
// together (psapi's GetProcessMemoryInfo); Windows does not count major
// faults apart, so that figure is not reported.

// procStart is the process's figures when a workload starts.
type procStart struct {
	wall      time.Time
	user, sys float64
	faults    uint32
}

// startProcess takes the figures a run's process figures are measured
// from.
func startProcess() procStart {
	s := procStart{wall: time.Now()}
	s.user, s.sys = workload.ProcessTimes()
	if c, ok := workload.MemoryCounters(); ok {
		s.faults = c.PageFaultCount
	}
	return s
}

// report puts the process figures of the run since s.
func (s procStart) report(e *workload.Env) {
	elapsed := time.Since(s.wall)
	user, sys := workload.ProcessTimes()
	if c, ok := workload.MemoryCounters(); ok {
		e.Put("", metric.PeakRSS, max(e.Peak, float64(c.PeakWorkingSetSize)))
		e.Put("", metric.Faults, float64(c.PageFaultCount-s.faults))
	}
	e.Put("", metric.Elapsed, elapsed.Seconds())
	e.Put("", metric.UserCPU, user-s.user)
	e.Put("", metric.SysCPU, sys-s.sys)
}
