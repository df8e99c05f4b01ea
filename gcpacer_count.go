// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import "fmt"

// countProcess (gcpacer_resident.go, gcpacer_other.go) returns the
// process's anonymous resident memory (osmem.Resident) less goHeld, the memory the Go
// runtime holds, or 0 if the runtime holds more (as it can while it has
// memory it has not touched).

// countAllocators returns the sum of the allocators' heldBytes, or for
// one without Stats the live bytes of the Counting that wraps it.
func countAllocators(as []Allocator) (uint64, error) {
	var total uint64
	for _, a := range as {
		if sr, ok := As[StatsReporter](a); ok {
			s, err := sr.Stats()
			if err != nil {
				return 0, fmt.Errorf("nalloc: the GC pacer cannot count %T: %w", a, err)
			}
			total += heldBytes(s)
		} else if c, ok := As[*Counting](a); ok {
			total += uint64(max(c.Counts().LiveBytes, 0))
		}
	}
	return total, nil
}

// heldBytes is the memory an allocator holds by its own Stats: Resident
// where it knows it, else Mapped, else Allocated. Each backend fills the
// first of them it can (Stats), and the first it fills is the largest.
func heldBytes(s Stats) uint64 {
	switch {
	case s.Resident > 0:
		return s.Resident
	case s.Mapped > 0:
		return s.Mapped
	}
	return s.Allocated
}
