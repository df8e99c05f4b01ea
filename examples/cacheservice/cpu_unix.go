// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !windows

package main

import (
	"fmt"
	"syscall"
	"time"
)

// processCPU returns the process's user and system CPU seconds.
func processCPU() (float64, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return seconds(ru.Utime) + seconds(ru.Stime), nil
}

func seconds(tv syscall.Timeval) float64 {
	return (time.Duration(tv.Sec)*time.Second + time.Duration(tv.Usec)*time.Microsecond).Seconds()
}
