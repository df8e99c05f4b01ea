// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !windows

package run

import (
	"syscall"
	"time"

	"github.com/nalloc/nalloc/bench/internal/metric"
	"github.com/nalloc/nalloc/bench/internal/workload"
)

// The process figures every run reports, as mimalloc-bench reports them
// for each of its runs: elapsed time, user and system CPU, peak resident
// set size (from package osmem) and page faults. Each run is its own
// process (see child.go), so they are the run's own. The peak RSS is
// package workload's PeakRSS, which the workloads read per round too.

// procStart is the process's figures when a workload starts.
type procStart struct {
	wall time.Time
	ru   syscall.Rusage
}

// startProcess resets the peak RSS and takes the figures a run's process
// figures are measured from: what mimalloc-bench reports of every run.
func startProcess() procStart {
	workload.ResetPeakRSS()
	var s procStart
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &s.ru)
	s.wall = time.Now()
	return s
}

// report puts the process figures of the run since s: elapsed (wall)
// time, user and system CPU, minor and major faults, and the peak RSS
// (the highest of the rounds' own peaks, for a workload that reads and
// resets it per round).
func (s procStart) report(e *workload.Env) {
	elapsed := time.Since(s.wall)
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	e.Put("", metric.PeakRSS, max(e.Peak, workload.PeakRSS()))
	e.Put("", metric.Faults, float64(ru.Minflt-s.ru.Minflt))
	e.Put("", metric.MajorFaults, float64(ru.Majflt-s.ru.Majflt))
	e.Put("", metric.Elapsed, elapsed.Seconds())
	e.Put("", metric.UserCPU, tvSeconds(ru.Utime)-tvSeconds(s.ru.Utime))
	e.Put("", metric.SysCPU, tvSeconds(ru.Stime)-tvSeconds(s.ru.Stime))
}

func tvSeconds(tv syscall.Timeval) float64 { return float64(tv.Sec) + float64(tv.Usec)/1e6 }
