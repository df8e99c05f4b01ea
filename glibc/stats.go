// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package glibc

import (
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/native"
)

// Mallinfo2 is glibc's struct mallinfo2 (glibc 2.33 and later): figures
// summed over every arena, in bytes unless a field says otherwise. The
// field comments follow mallinfo2(3).
type Mallinfo2 struct {
	Arena    uint64 // non-mmapped space obtained from the OS (sbrk heap and arena heaps)
	Ordblks  uint64 // number of free chunks
	Smblks   uint64 // number of free fastbin chunks
	Hblks    uint64 // number of blocks mmapped on their own
	Hblkhd   uint64 // bytes in blocks mmapped on their own
	Usmblks  uint64 // always 0
	Fsmblks  uint64 // bytes in free fastbin chunks
	Uordblks uint64 // bytes in chunks in use (excluding mmapped blocks)
	Fordblks uint64 // bytes in free chunks
	Keepcost uint64 // free bytes at the top of the main heap, releasable by Purge
}

// Mallinfo2 is passed to C by address, so it must match the C struct:
// ten size_t fields.
var _ [80]byte = [unsafe.Sizeof(Mallinfo2{})]byte{}

// Mallinfo2 returns mallinfo2(). It walks every arena's free lists, under
// each arena's lock, so it is not free: call it to look, not per
// allocation. mallinfo2 arrived in glibc 2.33: an older glibc gives an
// error wrapping nalloc.ErrUnsupported.
func (a *Allocator) Mallinfo2() (Mallinfo2, error) {
	if a.mallinfo2 == 0 {
		return Mallinfo2{}, a.lib.Missing("mallinfo2")
	}
	// struct mallinfo2 is returned in memory the caller provides, which
	// each ABI passes its own way (DI on amd64, x8 on arm64).
	var mi Mallinfo2
	native.SlowStruct(a.mallinfo2, &mi)
	return mi, nil
}

// Stats reports Mallinfo2 in nalloc's common shape:
//
//   - Allocated and Active: Uordblks + Hblkhd, the bytes in chunks in
//     use, mmapped ones included (glibc does not count pages, so Active
//     is the same figure).
//   - Mapped: Arena + Hblkhd, what the arenas and mmapped blocks hold.
//   - Resident, Retained, Metadata: 0; glibc does not know them (chunk
//     headers are inside Uordblks). For residency, see the process view.
func (a *Allocator) Stats() (nalloc.Stats, error) {
	mi, err := a.Mallinfo2()
	if err != nil {
		return nalloc.Stats{}, err
	}
	used := mi.Uordblks + mi.Hblkhd
	return nalloc.Stats{Allocated: used, Active: used, Mapped: mi.Arena + mi.Hblkhd}, nil
}
