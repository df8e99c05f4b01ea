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

// SwitchErr is why the start-up check refused the switch path, or nil.
func SwitchErr() error { return errSwitch }
