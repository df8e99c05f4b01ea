// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package sysmem says how much memory a Go heap allocation may ask for
// without risking the process: the "go" allocator and the bump arena's
// Go-heap chunks refuse larger requests with ErrOutOfMemory.
package sysmem

import (
	"sync"
	"syscall"
)

// MaxGoAlloc returns the largest block worth asking the Go heap for: the
// machine's RAM plus swap, and never more than the runtime's own limit. A
// larger make would either panic (beyond the runtime's address-space
// limit) or, worse, end the process with a fatal "out of memory" that no
// recover can catch. A request under it can still meet that fate when the
// memory is taken by others; this check only rules out the hopeless ones.
var MaxGoAlloc = sync.OnceValue(func() uint64 {
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil {
		return goMaxAlloc
	}
	return min(goMaxAlloc, (uint64(si.Totalram)+uint64(si.Totalswap))*uint64(si.Unit))
})

// goMaxAlloc is the Go runtime's largest allocation on 64-bit Linux
// (runtime.maxAlloc, 1<<48).
const goMaxAlloc = 1 << 48
