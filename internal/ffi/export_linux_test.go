// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build linux && (amd64 || arm64) && !nalloc_purego

package ffi

// The switch path's entry points, whatever path FastN takes in this build.
var (
	Switch4  = switch4
	SwitchIf = switchIf
)

// SwitchOn reports whether the switch path passed its start-up check.
func SwitchOn() bool { return switchOK }

// The runtime layout the switch path uses, for the tests that look at it.
const (
	GM      = gM
	GSched  = gSched
	GobufPC = gobufPC
	GobufSP = gobufSP
	MCurg   = mCurg
	MG0     = mG0
)

// GetG is the g register, TLSG the g in the TLS slot.
var (
	GetG = getg
	TLSG = tlsG
)
