// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build race

package nalloc_test

// raceEnabled: the race detector is on, and its shadow memory doubles the
// footprint of what a test sizes against a memory limit.
const raceEnabled = true
