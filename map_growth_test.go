// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cockroachdb/swiss"
)

// The swiss this module requires grows as TryPut forecasts.
func TestCheckMapGrowth(t *testing.T) {
	if err := CheckMapGrowth(); err != nil {
		t.Fatal(err)
	}
}

// A swiss that grows by other rules than TryPut's forecast is caught:
// one whose buckets split at 1024 slots instead of doubling to 4096, and
// one whose degenerate hash makes it double buckets it would split.
func TestCheckMapGrowthCatchesOtherRules(t *testing.T) {
	for name, opts := range map[string][]swiss.Option[uint64, uint64]{
		"smaller-buckets": {swiss.WithMaxBucketCapacity[uint64, uint64](1024)},
		"degenerate-hash": {swiss.WithHash[uint64, uint64](func(k *uint64, seed uintptr) uintptr { return uintptr(*k % 64) })},
	} {
		t.Run(name, func(t *testing.T) {
			pa := &probeAllocator{Allocator: NewGoHeap()}
			m := &Map[uint64, uint64]{alloc: mapAllocator[uint64, uint64]{a: pa, options: opts}}
			if err := m.init(0); err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			err := probeGrowth(m, pa)
			if !errors.Is(err, ErrMapGrowth) {
				t.Fatalf("probeGrowth of a swiss with %s = %v, want ErrMapGrowth", name, err)
			}
			t.Log(err)
		})
	}
}

// Where the check failed, TryPut refuses with ErrMapGrowth and changes
// nothing; Put goes on working.
func TestTryPutRefusesUnderOtherRules(t *testing.T) {
	CheckMapGrowth()
	saved := mapGrowth.err
	mapGrowth.err = fmtMapGrowth("at 7 entries it asked for a block of 4 groups that TryPut had not reserved")
	defer func() { mapGrowth.err = saved }()
	m, err := NewMap[uint64, uint64](NewGoHeap(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	m.Put(1, 1)
	if err := m.TryPut(2, 2); !errors.Is(err, ErrMapGrowth) {
		t.Fatalf("TryPut after a failed check = %v, want ErrMapGrowth", err)
	}
	if _, ok := m.Get(2); ok || m.Len() != 1 {
		t.Fatalf("a refused TryPut changed the map: %d entries", m.Len())
	}
}

func fmtMapGrowth(detail string) error { return fmt.Errorf("%w: %s", ErrMapGrowth, detail) }
