// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package osmem

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"unsafe"

	"github.com/nalloc/nalloc/internal/ffi"
)

// ReadCheap takes a Snapshot without the mappings, cheap enough to call in
// a tight sampling loop.
func ReadCheap() (Snapshot, error) {
	var s Snapshot
	vm, err := readTaskVMInfo()
	if err != nil {
		return s, err
	}
	s.RSS, s.AnonRSS, s.PeakRSS = vm.ResidentSize, vm.Internal, vm.ResidentSizePeak
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return s, fmt.Errorf("osmem: getrusage: %w", err)
	}
	s.MinorFaults, s.MajorFaults = uint64(ru.Minflt), uint64(ru.Majflt)
	return s, nil
}

// Break returns the program break: 0, as macOS has none (its brk and
// sbrk are emulations that no allocator uses).
func Break() uintptr { return 0 }

// Resident returns the process's resident memory and its anonymous part,
// in bytes, from Mach's task_info: resident_size and internal, the
// resident pages of anonymous memory (every allocator's heaps, the Go
// runtime's memory, thread stacks). It costs one Mach call; its out
// parameter is a Go heap allocation.
func Resident() (rss, anon uint64, err error) {
	vm, err := readTaskVMInfo()
	if err != nil {
		return 0, 0, err
	}
	return vm.ResidentSize, vm.Internal, nil
}

// errNoMaps is Mappings' error on macOS: the address space is read there
// with mach_vm_region, one call per region, which osmem does not do.
var errNoMaps = fmt.Errorf("osmem: no /proc/self/maps on darwin: %w", errors.ErrUnsupported)

func eachMapping(func(Mapping)) error { return errNoMaps }

// mach is libSystem's task_info and the task's own port, loaded on first
// use.
var mach = sync.OnceValues(func() (taskInfo uintptr, err error) {
	lib, err := ffi.Load("/usr/lib/libSystem.B.dylib")
	if err != nil {
		return 0, fmt.Errorf("osmem: %w", err)
	}
	var self uintptr
	if err := lib.Symbols(ffi.Sym{Name: "task_info", Addr: &taskInfo}, ffi.Sym{Name: "mach_task_self_", Addr: &self}); err != nil {
		return 0, fmt.Errorf("osmem: %w", err)
	}
	machTaskSelf = *(*uint32)(ffi.Ptr(self)) // mach_task_self() reads this variable
	return taskInfo, nil
})

var machTaskSelf uint32

// taskVMInfoFlavor is TASK_VM_INFO, the flavor of task_info that fills a
// taskVMInfo.
const taskVMInfoFlavor = 22

// readTaskVMInfo calls task_info(mach_task_self(), TASK_VM_INFO, ...).
func readTaskVMInfo() (*taskVMInfo, error) {
	fn, err := mach()
	if err != nil {
		return nil, err
	}
	vm := new(taskVMInfo)
	count := uint32(taskVMInfoRev1Count)
	if kr := ffi.Slow4(fn, uintptr(machTaskSelf), taskVMInfoFlavor,
		uintptr(unsafe.Pointer(vm)), uintptr(unsafe.Pointer(&count))); int32(kr) != 0 {
		return nil, fmt.Errorf("osmem: task_info(TASK_VM_INFO): kern_return_t %d", int32(kr))
	}
	if count < taskVMInfoRev1Count {
		return nil, fmt.Errorf("osmem: task_info(TASK_VM_INFO) filled %d words, want %d", count, taskVMInfoRev1Count)
	}
	return vm, nil
}
