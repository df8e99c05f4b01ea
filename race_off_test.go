// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !race

package nalloc_test

// raceEnabled: see race_on_test.go.
const raceEnabled = false
