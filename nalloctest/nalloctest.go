// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package nalloctest checks that an nalloc.Allocator keeps the contract
// written on that interface. Every allocator and wrapper in this module
// runs it, and an implementation outside the module can too:
//
//	func TestConformance(t *testing.T) {
//		nalloctest.Run(t, nalloctest.Config{
//			New: func(testing.TB) nalloc.Allocator { return mine.New() },
//		})
//	}
//
// Run covers every power-of-two alignment from 1 to 64 KiB, sizes from 0 to
// tens of MiB, Grow and Shrink across alignment changes with the contents
// checked, a failed Grow leaving the block as it was, invalid layouts and
// Grow/Shrink in the wrong direction, 2^62-byte requests, zero-filled
// memory from the zeroing paths (after the allocator was made dirty), no
// overlap between live blocks under a long random sequence of operations,
// concurrent use with blocks freed on other goroutines than the one that
// allocated them, and zero Go heap allocations per Allocate+Deallocate.
package nalloctest

import (
	"testing"

	"github.com/nalloc/nalloc"
)

// Config describes the allocator under test.
type Config struct {
	// New returns the allocator to test. It is called once per subtest,
	// so it may return a fresh allocator each time or a shared one.
	New func(t testing.TB) nalloc.Allocator

	// NotConcurrent says the allocator is not safe for concurrent use
	// (the bump arena): the concurrency subtest is skipped.
	NotConcurrent bool
	// MayAllocate says Allocate and Deallocate may allocate on the Go
	// heap (the "go" allocator, wrappers that record stacks): the
	// zero-allocation subtest is skipped.
	MayAllocate bool
	// StatsAllocated says Stats().Allocated tracks live blocks, so the
	// Stats subtest checks that a large block shows up in it.
	StatsAllocated bool
	// Large is the largest block size tried (64 MiB if 0). An allocator
	// with a byte limit should set it below the limit.
	Large uintptr
}

func (c *Config) large() uintptr {
	if c.Large == 0 {
		return 64 << 20
	}
	return c.Large
}

// Run runs the conformance subtests against c.New's allocator.
func Run(t *testing.T, c Config) {
	t.Helper()
	if c.New == nil {
		t.Fatal("nalloctest: Config.New is nil")
	}
	tests := []struct {
		name string
		run  func(*testing.T, *Config)
	}{
		{"Alignments", testAlignments},
		{"ZeroSize", testZeroSize},
		{"Large", testLarge},
		{"Zeroed", testZeroed},
		{"GrowShrink", testGrowShrink},
		{"GrowChain", testGrowChain},
		{"FailedGrowKeepsBlock", testFailedGrow},
		{"WrongDirection", testWrongDirection},
		{"InvalidLayouts", testInvalidLayouts},
		{"OutOfMemory", testOutOfMemory},
		{"RandomOps", testRandomOps},
		{"Concurrent", testConcurrent},
		{"NoGoAllocations", testNoGoAllocations},
		{"UsableSize", testUsableSize},
		{"Stats", testStats},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, &c) })
	}
}
