// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package report

import "github.com/nalloc/nalloc/internal/platform"

// What a figure taken under emulation is worth, for EmulationWarning: the
// shoot-out's times measure the emulator's translation of each library's
// code; the probe's break and mappings are the emulator's own model of
// them (qemu-user emulates brk and writes /proc/self/maps itself), and
// RSS and faults count the emulator's memory too.
const (
	EmulatedTimes      = "Times, rates and ratios measured under emulation mean nothing about the allocators on real hardware: do not compare or publish them."
	EmulatedMechanisms = "The break and mappings below are the emulator's model of them, and RSS and faults include the emulator's own memory: the mechanisms show, the figures are not the hardware's."
)

// EmulationWarning is the line the shoot-out and the probe print first
// when the CPU is emulated (a linux/arm64 binary under qemu-user on an
// x86-64 machine, say), saying what the figures are worth; "" on real
// hardware.
func EmulationWarning(worth string) string {
	e := platform.Emulation()
	if e == "" {
		return ""
	}
	return "WARNING: " + e + ". " + worth
}
