// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package libsystem

import (
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/native"
)

// Statistics is macOS's malloc_statistics_t (<malloc/malloc.h>): a zone's
// figures, as malloc_zone_statistics fills them in.
type Statistics struct {
	BlocksInUse   uint32  // blocks handed out and not yet freed
	_             [4]byte // the C struct's padding before the size_t fields
	SizeInUse     uint64  // bytes in those blocks
	MaxSizeInUse  uint64  // the high-water mark of SizeInUse
	SizeAllocated uint64  // bytes the zone has reserved in memory
}

// Statistics is filled in by C through its address, so it must match the
// C struct on the 64-bit targets: an unsigned, then three size_t fields
// from offset 8.
var (
	_ [32]byte = [unsafe.Sizeof(Statistics{})]byte{}
	_ [8]byte  = [unsafe.Offsetof(Statistics{}.SizeInUse)]byte{}
)

// Statistics returns the zone's malloc_zone_statistics. It walks the
// zone's regions, under their locks: call it to look, not per allocation.
func (a *Allocator) Statistics() Statistics {
	var s Statistics
	native.Slow2(a.statistics, a.zone, uintptr(unsafe.Pointer(&s)))
	return s
}

// Stats reports Statistics in nalloc's common shape:
//
//   - Allocated and Active: SizeInUse, the bytes in blocks in use (the
//     zone counts no pages apart).
//   - Mapped: SizeAllocated, what the zone has reserved.
//   - Resident, Retained, Metadata: 0; the zone does not say. For
//     residency, see the process view.
func (a *Allocator) Stats() (nalloc.Stats, error) {
	return statsOf(a.Statistics()), nil
}

func statsOf(s Statistics) nalloc.Stats {
	return nalloc.Stats{Allocated: s.SizeInUse, Active: s.SizeInUse, Mapped: s.SizeAllocated}
}
