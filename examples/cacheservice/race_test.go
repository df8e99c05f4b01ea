// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build race

package main

// raceEnabled: the race detector's shadow memory, anonymous memory the Go
// runtime does not count as its own, is in the GC pacer's count.
const raceEnabled = true
