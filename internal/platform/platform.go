// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package platform says what the process runs on where that changes what
// nalloc's tools can claim or build: whether the CPU is emulated (a
// linux/arm64 binary under qemu-user on an x86-64 machine, where timings
// mean nothing and /proc differs), and which C compiler builds code for
// the process's own architecture.
package platform

import (
	"os"
	"runtime"
	"strings"
	"sync"
)

// Emulation returns why this process runs under a user-mode CPU emulator,
// or "" if it runs natively (or cannot tell). A binary runs emulated when
// the kernel's architecture is not one the binary's runs on natively: a
// linux/arm64 binary started on an x86-64 kernel through binfmt_misc and
// qemu-user, or a linux/amd64 one on an arm64 kernel (Docker on Apple
// silicon, Rosetta). The kernel's own architecture is read where the
// emulator does not rewrite it: /proc/sys/kernel/arch (Linux 6.1 and
// later), else the shape of /proc/cpuinfo. uname is no witness: qemu-user
// answers it with the emulated machine.
var Emulation = sync.OnceValue(func() string {
	arch, _ := os.ReadFile("/proc/sys/kernel/arch")
	var cpuinfo []byte
	if len(arch) == 0 {
		cpuinfo, _ = os.ReadFile("/proc/cpuinfo")
	}
	return emulation(runtime.GOARCH, strings.TrimSpace(string(arch)), string(cpuinfo))
})

// kernelFamily maps a kernel architecture (uname -m) to the GOARCH values
// whose binaries it runs natively (compat modes included).
var kernelFamily = map[string][]string{
	"x86_64":  {"amd64", "386"},
	"i686":    {"386"},
	"aarch64": {"arm64", "arm"},
	"armv7l":  {"arm"},
	"riscv64": {"riscv64"},
	"ppc64le": {"ppc64le"},
	"s390x":   {"s390x"},
}

// emulation is Emulation's decision: goarch is the binary's, kernelArch
// the kernel's (or ""), cpuinfo /proc/cpuinfo's text when kernelArch is
// unknown.
func emulation(goarch, kernelArch, cpuinfo string) string {
	if kernelArch == "" {
		kernelArch = cpuinfoArch(cpuinfo)
	}
	native, known := kernelFamily[kernelArch]
	if !known {
		return ""
	}
	for _, a := range native {
		if a == goarch {
			return ""
		}
	}
	return "the CPU is emulated (qemu-user or the like): this is a linux/" + goarch + " binary, the kernel is " + kernelArch
}

// cpuinfoArch guesses the kernel's architecture from /proc/cpuinfo, which
// qemu-user passes through from the host: x86 kernels list vendor_id and
// flags, arm64 ones CPU implementer and Features.
func cpuinfoArch(cpuinfo string) string {
	has := func(field string) bool {
		return strings.HasPrefix(cpuinfo, field) || strings.Contains(cpuinfo, "\n"+field)
	}
	switch {
	case has("vendor_id") && has("flags"):
		return "x86_64"
	case has("CPU implementer") && has("Features"):
		return "aarch64"
	}
	return ""
}
