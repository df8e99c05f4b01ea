// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package ffi

// The paths below the Fast and Slow functions, for the tests that compare them.
var (
	Cgocall   = slow
	CgocallIf = slowIf
	Purego    = purego6
	Purego8   = purego8
	PuregoIf  = puregoIf
)

// SlowPath is the path the Slow calls take in this build: PathCgocall,
// or PathPurego where there is no assembly.
const SlowPath = slowPath

// SwitchErr is why the start-up check refused the switch path, or nil.
func SwitchErr() error { return errSwitch }
