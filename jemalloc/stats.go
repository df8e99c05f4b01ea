// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package jemalloc

import (
	"fmt"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/native"
)

// refresh writes the epoch mallctl, which makes jemalloc merge its
// per-arena counters into the snapshot that stats.* mallctls read.
func (a *Allocator) refresh() error {
	if !a.stats {
		return fmt.Errorf("jemalloc: statistics: this build has config.stats false: %w", native.ErrMissing)
	}
	return SetMallctl(a, "epoch", uint64(1))
}

// readAll reads the size_t mallctls named prefix+names[i] into *out[i].
func (a *Allocator) readAll(prefix string, names []string, out []*uint64) error {
	for i, name := range names {
		v, err := Mallctl[uint64](a, prefix+name)
		if err != nil {
			return err
		}
		*out[i] = v
	}
	return nil
}

// Stats reports jemalloc's own account of the whole process's jemalloc
// memory, after an epoch bump, from the stats.* mallctls (see
// jemalloc(3)):
//
//   - Allocated: stats.allocated, the bytes in live blocks, counted by
//     size class. Small blocks parked in threads' caches count as
//     allocated.
//   - Active: stats.active, the bytes in pages that hold live blocks; a
//     multiple of the page size, at least Allocated.
//   - Resident: stats.resident, at most this much is physically
//     resident: metadata, active pages and dirty pages (freed, not yet
//     purged). A maximum, since untouched pages count too.
//   - Mapped: stats.mapped, the bytes in extents mapped for active,
//     dirty and muzzy pages (not metadata); at least Active.
//   - Retained: stats.retained, virtual memory kept mapped for reuse after
//     its pages were returned to the OS (opt.retain, on by default on
//     64-bit Linux); not in Mapped.
//   - Metadata: stats.metadata, jemalloc's own structures (base and
//     internal allocations).
//
// Stats makes seven mallctl calls on the slow path: call it to look,
// not per allocation. Without config.stats it returns an error wrapping
// native's ErrMissing.
func (a *Allocator) Stats() (nalloc.Stats, error) {
	var s nalloc.Stats
	if err := a.refresh(); err != nil {
		return s, err
	}
	err := a.readAll("stats.",
		[]string{"allocated", "active", "resident", "mapped", "retained", "metadata"},
		[]*uint64{&s.Allocated, &s.Active, &s.Resident, &s.Mapped, &s.Retained, &s.Metadata})
	return s, err
}

// Info returns jemalloc's text report (malloc_stats_print with its
// default options): the build's configuration and options, the merged
// statistics, and those of each arena and size class. With config.stats
// false (a build without statistics) the report has the configuration
// only. Reports are serialised.
func (a *Allocator) Info() (string, error) {
	text, err := native.Report(true, func(write uintptr) { native.CallWithCallback(a.statsPrint, write, 0, 0, 0) })
	if err != nil {
		return "", fmt.Errorf("jemalloc: Info: %w", err)
	}
	return text, nil
}
