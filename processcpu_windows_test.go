// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import "math"

// processCPU is NaN on Windows, which has no getrusage: the GC benchmarks
// report no process CPU there.
func processCPU() float64 { return math.NaN() }
