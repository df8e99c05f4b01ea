// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import (
	"sync"
	"syscall"
)

// goHeapLimit is the largest block GoHeap will ask the Go heap for: the
// machine's RAM plus swap. A larger make would either panic (beyond the
// runtime's address-space limit) or, worse, end the process with a fatal
// "out of memory" that no recover can catch.
var goHeapLimit = sync.OnceValue(func() uint64 {
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil {
		return goMaxAlloc
	}
	return min(goMaxAlloc, (uint64(si.Totalram)+uint64(si.Totalswap))*uint64(si.Unit))
})

// goMaxAlloc is the Go runtime's largest allocation on 64-bit Linux
// (runtime.maxAlloc, 1<<48).
const goMaxAlloc = 1 << 48
