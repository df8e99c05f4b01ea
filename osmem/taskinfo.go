// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package osmem

import "unsafe"

// taskVMInfo is Mach's struct task_vm_info (mach/task_info.h) up to its
// revision 1, phys_footprint: what task_info fills for the TASK_VM_INFO
// flavor with a count of taskVMInfoRev1Count. It is declared on every
// system so that its layout is tested on Linux (TestTaskVMInfoLayout);
// only osmem_darwin.go reads one. Mach packs the struct to 4 bytes, which
// changes nothing here: every 8-byte field falls on an 8-byte offset.
type taskVMInfo struct {
	VirtualSize               uint64 // mach_vm_size_t virtual_size
	RegionCount               int32  // integer_t region_count
	PageSize                  int32  // integer_t page_size
	ResidentSize              uint64 // resident memory, bytes
	ResidentSizePeak          uint64
	Device, DevicePeak        uint64
	Internal, InternalPeak    uint64 // anonymous memory resident
	External, ExternalPeak    uint64 // file-backed memory resident
	Reusable, ReusablePeak    uint64
	PurgeableVolatilePmap     uint64
	PurgeableVolatileResident uint64
	PurgeableVolatileVirtual  uint64
	Compressed                uint64
	CompressedPeak            uint64
	CompressedLifetime        uint64
	PhysFootprint             uint64 // revision 1
}

// taskVMInfoRev1Count is TASK_VM_INFO_REV1_COUNT: the struct's size in
// natural_t (4-byte) words.
const taskVMInfoRev1Count = 38

// The struct must fill exactly the words task_info is told it has.
var _ [unsafe.Sizeof(taskVMInfo{}) - 4*taskVMInfoRev1Count]struct{}
var _ [4*taskVMInfoRev1Count - unsafe.Sizeof(taskVMInfo{})]struct{}
