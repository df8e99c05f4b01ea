// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package mimalloc

import (
	"fmt"
	"sync"
	"time"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/native"
)

// ProcessInfo is what mi_process_info reports. The comments say where
// each figure comes from in mimalloc 2.0.9 on Linux.
type ProcessInfo struct {
	Elapsed time.Duration // since mimalloc initialised the process (at dlopen)
	User    time.Duration // user CPU time of the process (getrusage)
	System  time.Duration // system CPU time of the process (getrusage)
	// CurrentCommit and PeakCommit are the bytes mimalloc has committed
	// (mapped readable and writable, and not decommitted since), by its
	// own count, which is signed and can go wrong: see Allocator.Stats.
	CurrentCommit int64
	PeakCommit    int64
	// CurrentRSS is mimalloc's estimate of its resident memory: on Linux
	// it is CurrentCommit again, not a measurement.
	CurrentRSS int64
	PeakRSS    uint64 // the process's peak RSS, all of it (getrusage ru_maxrss)
	PageFaults uint64 // major page faults of the process (getrusage ru_majflt)
}

// ProcessInfo returns mi_process_info's figures.
func (a *Allocator) ProcessInfo() ProcessInfo {
	var v [8]uint64 // size_t out parameters; Slow8 keeps v on the heap for C
	native.Slow8(a.processInfo,
		uintptr(unsafe.Pointer(&v[0])), uintptr(unsafe.Pointer(&v[1])),
		uintptr(unsafe.Pointer(&v[2])), uintptr(unsafe.Pointer(&v[3])),
		uintptr(unsafe.Pointer(&v[4])), uintptr(unsafe.Pointer(&v[5])),
		uintptr(unsafe.Pointer(&v[6])), uintptr(unsafe.Pointer(&v[7])))
	return ProcessInfo{
		Elapsed:       time.Duration(v[0]) * time.Millisecond,
		User:          time.Duration(v[1]) * time.Millisecond,
		System:        time.Duration(v[2]) * time.Millisecond,
		CurrentRSS:    int64(v[3]), // mimalloc's int64 counters, passed as size_t
		PeakRSS:       v[4],
		CurrentCommit: int64(v[5]),
		PeakCommit:    int64(v[6]),
		PageFaults:    v[7],
	}
}

// Stats reports mimalloc's figures in nalloc's common shape:
//
//   - Mapped: ProcessInfo's CurrentCommit, the bytes mimalloc has
//     committed for its segments and huge blocks, by its own process-wide
//     counter (0 if that counter is negative). Freed memory stays
//     committed for a while (DecommitDelay, SegmentDecommitDelay) unless
//     Collect(true) returns it at once. It is an estimate: mimalloc 2.0.9
//     keeps the counter with errors, and it drifts, even below zero, after
//     blocks with an alignment of 16 MiB or more (each takes off about
//     30 MiB more than it added) and after huge blocks freed by another
//     thread than the one that allocated them (TestCommitCounterDrifts).
//   - Allocated, Active, Resident, Retained, Metadata: 0. Release builds of
//     mimalloc (Debian's included) do not count blocks, resident pages or
//     their own metadata, and 2.0.9 reports no figure for address space
//     reserved but decommitted. A Heap's Stats do count its blocks, by
//     walking it.
func (a *Allocator) Stats() (nalloc.Stats, error) {
	return nalloc.Stats{Mapped: uint64(max(a.ProcessInfo().CurrentCommit, 0))}, nil
}

// callbacks are C function pointers into Go, made once (the table of them
// is fixed in size). C functions that call back into Go go through
// native.CallWithCallback, one at a time.
var callbacks struct {
	once sync.Once
	err  error

	mu      sync.Mutex // serialises the calls that use the callback below
	visit   uintptr    // bool (*)(const mi_heap_t*, const mi_heap_area_t*, void*, size_t, void*)
	visited heapTotals
}

// heapArea is the head of mimalloc's mi_heap_area_t, whose first five
// fields have had these types and this order since mimalloc 1.0 (2.0
// appends full_block_size). It is read in place, in C memory.
type heapArea struct {
	blocks, reserved, committed, used, blockSize uintptr
}

type heapTotals struct {
	allocated, committed, reserved uint64
	areas                          int
}

func makeCallbacks() error {
	callbacks.once.Do(func() {
		var err error
		callbacks.visit, err = native.NewCallback(func(_, area, _, _, _ uintptr) uintptr {
			ha := (*heapArea)(native.Ptr(area))
			callbacks.visited.allocated += uint64(ha.used) * uint64(ha.blockSize)
			callbacks.visited.committed += uint64(ha.committed)
			callbacks.visited.reserved += uint64(ha.reserved)
			callbacks.visited.areas++
			return 1 // go on
		})
		if err != nil {
			callbacks.err = fmt.Errorf("mimalloc: %w", err)
		}
	})
	return callbacks.err
}

// Info returns mimalloc's text report (mi_stats_print_out),
// after merging the calling thread's counters into the process's
// (mi_stats_merge). Release builds of mimalloc count less than debug
// builds: the per-size-class lines are missing, and some counters are
// only approximate. Calls are serialised.
func (a *Allocator) Info() (string, error) {
	native.Slow1(a.statsMerge, 0)
	text, err := native.Report(false, func(out uintptr) { native.CallWithCallback(a.statsPrintOut, out, 0, 0, 0) })
	if err != nil {
		return "", fmt.Errorf("mimalloc: Info: %w", err)
	}
	return text, nil
}

// Stats reports the heap's own memory, found by walking its pages
// (mi_heap_visit_blocks, areas only):
//
//   - Allocated: the bytes in blocks in use, each counted at its size
//     class's size. Blocks freed from other threads count until the heap
//     next collects them (on its own allocations, or Collect).
//   - Active: the bytes of the heap's pages that hold blocks, in use or
//     free (a page's capacity).
//   - Mapped: the bytes of address space the heap's pages span.
//   - Resident, Retained, Metadata: 0.
//
// Like every call but Deallocate and UsableSize, it must run on the owner
// goroutine. The walk calls back into Go, so it does not go through the
// guarded call: the check comes first and the walk follows, safe because
// WithHeap locked the goroutine to the thread.
func (h *Heap) Stats() (nalloc.Stats, error) {
	if h.closed.Load() != heapOpen {
		return nalloc.Stats{}, h.refused("Stats")
	}
	if err := makeCallbacks(); err != nil {
		return nalloc.Stats{}, err
	}
	if !h.guard.OnThread() {
		return nalloc.Stats{}, h.refused("Stats")
	}
	callbacks.mu.Lock()
	defer callbacks.mu.Unlock()
	callbacks.visited = heapTotals{}
	native.CallWithCallback(h.a.heapVisitBlocks, h.heap, 0, callbacks.visit, 0)
	t := callbacks.visited
	return nalloc.Stats{Allocated: t.allocated, Active: t.committed, Mapped: t.reserved}, nil
}
