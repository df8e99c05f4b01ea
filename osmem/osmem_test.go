// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package osmem

import (
	"testing"
	"unsafe"
)

// TestTaskVMInfoLayout checks the Go copy of Mach's struct task_vm_info
// against the offsets of mach/task_info.h: 16 fields of 8 bytes after
// virtual_size and two integer_t, then phys_footprint, 152 bytes in all
// (TASK_VM_INFO_REV1_COUNT is 38 words).
func TestTaskVMInfoLayout(t *testing.T) {
	var vm taskVMInfo
	for _, f := range []struct {
		name      string
		got, want uintptr
	}{
		{"region_count", unsafe.Offsetof(vm.RegionCount), 8},
		{"resident_size", unsafe.Offsetof(vm.ResidentSize), 16},
		{"resident_size_peak", unsafe.Offsetof(vm.ResidentSizePeak), 24},
		{"internal", unsafe.Offsetof(vm.Internal), 48},
		{"compressed_lifetime", unsafe.Offsetof(vm.CompressedLifetime), 136},
		{"phys_footprint", unsafe.Offsetof(vm.PhysFootprint), 144},
		{"size", unsafe.Sizeof(vm), 152},
		{"TASK_VM_INFO_REV1_COUNT words", 4 * taskVMInfoRev1Count, 152},
	} {
		if f.got != f.want {
			t.Errorf("%s at %d, want %d", f.name, f.got, f.want)
		}
	}
}
func TestParseMapsLine(t *testing.T) {
	tests := []struct {
		line string
		anon bool
	}{
		{"7f998840d000-7f998842f000 rw-p 00000000 00:00 0 ", true},
		{"7f998840d000-7f998842f000 rw-p 00000000 00:00 0      [anon:go heap]", true},
		{"561677b7c000-561677b9d000 rw-p 00000000 00:00 0                          [heap]", false},
		{"7ffd0e9a5000-7ffd0e9c6000 rw-p 00000000 00:00 0                          [stack]", false},
		{"7f99884b8000-7f998860e000 r-xp 00026000 fe:00 326269                     /usr/lib/x86_64-linux-gnu/libc.so.6", false},
	}
	for _, tt := range tests {
		m, ok := parseMapsLine([]byte(tt.line))
		if !ok || m.Anonymous() != tt.anon {
			t.Errorf("%q: ok %v anonymous %v, want anonymous %v", tt.line, ok, m.Anonymous(), tt.anon)
		}
	}
	if _, ok := parseMapsLine([]byte("garbage")); ok {
		t.Error("garbage parsed")
	}
}
