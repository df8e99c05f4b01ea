// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"unsafe"
)

// ErrMapGrowth: the github.com/cockroachdb/swiss this program was built
// with grows its tables differently from what Map.TryPut forecasts, so
// TryPut cannot promise that a refused allocation leaves the map as it
// was, off the Go heap; TryPut then refuses to run rather than break the
// promise quietly. Put, Get, Delete and the rest are unaffected.
//
// It happens when minimal version selection gives the program a newer
// swiss than the one this version of nalloc was tested with (go.mod
// names it; another dependency, such as pebble, may require a newer one).
// The remedy is a version of nalloc that knows that swiss, or to pin swiss
// back to the version nalloc's go.mod requires, if nothing else needs the
// newer one. CheckMapGrowth runs the same check at start-up or in a test.
var ErrMapGrowth = errors.New("nalloc: swiss grows differently than Map.TryPut forecasts")

var mapGrowth struct {
	once sync.Once
	err  error
}

// CheckMapGrowth checks, once per process, that the swiss package linked
// into the program grows its tables as Map.TryPut forecasts (see
// ErrMapGrowth), and returns nil or an error wrapping ErrMapGrowth that
// names the first difference. TryPut runs it on its first call; a service
// that relies on TryPut can call it at start-up, or in a test, to learn
// of a dependency upgrade before the first TryPut does. The check drives
// a Map of about 16 000 entries on the Go heap through every kind of
// growth (doublings with and without tombstones, bucket splits), with
// allocations refused at each growth, in a few milliseconds.
func CheckMapGrowth() error {
	mapGrowth.once.Do(func() {
		pa := &probeAllocator{Allocator: NewGoHeap()}
		m := &Map[uint64, uint64]{alloc: mapAllocator[uint64, uint64]{a: pa}}
		if err := m.init(0); err != nil {
			mapGrowth.err = err
			return
		}
		defer m.Close()
		mapGrowth.err = probeGrowth(m, pa)
	})
	return mapGrowth.err
}

// growthTable is what probeGrowth drives: a Map[uint64, uint64], or in
// tests a table that grows by other rules through the same mapAllocator.
type growthTable interface {
	tryPut(k, v uint64) error
	Get(k uint64) (uint64, bool)
	Delete(k uint64)
	Len() int
	allocator() *mapAllocator[uint64, uint64]
}

func (m *Map[K, V]) tryPut(k K, v V) error          { return m.tryPutChecked(k, v) }
func (m *Map[K, V]) allocator() *mapAllocator[K, V] { return &m.alloc }

// probeAllocator refuses every allocation while refuse is set.
type probeAllocator struct {
	Allocator
	refuse bool
}

func (p *probeAllocator) Allocate(l Layout) (unsafe.Pointer, error) {
	if p.refuse {
		return nil, OutOfMemory("probe", l)
	}
	return p.Allocator.Allocate(l)
}

// probeGrowth inserts into t, with deletes, until it has grown through
// every regime TryPut forecasts: a single bucket doubling from one group
// to bucketSlots slots, with a window of deletes that leaves tombstones
// at each size, then buckets splitting. Each insert of a new key is tried
// first with every allocation refused: it must either succeed (no growth)
// or fail with ErrOutOfMemory leaving the table as it was (a key count
// and checksum of every entry, taken only when swiss itself was refused:
// a refused reservation fails before swiss is touched); then it is tried
// with allocations allowed, and must succeed. A growth TryPut did not
// foresee (a block it neither reserved nor can refuse safely) is a miss.
func probeGrowth(t growthTable, pa *probeAllocator) error {
	al := t.allocator()
	al.probing = true
	model := make(map[uint64]uint64)
	var sum uint64 // of k*v+k over model
	put := func(k uint64) error {
		v := k*0x9e3779b97f4a7c15 | 1
		if _, in := model[k]; in {
			return t.tryPut(k, v) // replaces the same value; needs no memory
		}
		pa.refuse = true
		before := al.allocs
		err := t.tryPut(k, v)
		pa.refuse = false
		if al.misses > 0 {
			return fmt.Errorf("%w: at %d entries it asked for a block of %d groups that TryPut had not reserved",
				ErrMapGrowth, len(model), al.missed)
		}
		if err != nil {
			if !errors.Is(err, ErrOutOfMemory) {
				return fmt.Errorf("%w: a refused TryPut at %d entries: %v", ErrMapGrowth, len(model), err)
			}
			if al.allocs != before { // swiss was refused mid-insert
				if err := sameEntries(t, model, sum); err != nil {
					return fmt.Errorf("%w: a refused growth at %d entries changed the map: %v", ErrMapGrowth, len(model), err)
				}
			} else if _, ok := t.Get(k); ok || t.Len() != len(model) {
				return fmt.Errorf("%w: a refused TryPut at %d entries changed the map", ErrMapGrowth, len(model))
			}
			if err := t.tryPut(k, v); err != nil {
				return fmt.Errorf("%w: TryPut at %d entries: %v", ErrMapGrowth, len(model), err)
			}
		}
		model[k] = v
		sum += k*v + k
		return nil
	}
	del := func(k uint64) {
		if v, in := model[k]; in {
			sum -= k*v + k
			delete(model, k)
		}
		t.Delete(k)
	}
	next, oldest := uint64(0), uint64(0)
	for c := groupSlots; c <= bucketSlots; c *= 2 {
		// Fill a bucket of c slots to just short of the rehash in place,
		// then churn: each insert past that deletes the oldest entry.
		window := c*7/8 - c/3 + 1
		for len(model) < window {
			if err := put(next); err != nil {
				return err
			}
			next++
		}
		for range c / 2 {
			if err := put(next); err != nil {
				return err
			}
			next++
			for len(model) > window {
				del(oldest)
				oldest++
			}
		}
	}
	rng := rand.New(rand.NewChaCha8([32]byte{'n', 'a', 'l', 'l', 'o', 'c'}))
	for len(model) < 3*bucketSlots {
		if err := put(next); err != nil {
			return err
		}
		next++
		if next%4 == 0 {
			del(oldest + rng.Uint64N(next-oldest))
		}
	}
	return nil
}

// sameEntries reports how t differs from model, whose entries' k*v+k sum
// to sum.
func sameEntries(t growthTable, model map[uint64]uint64, sum uint64) error {
	if t.Len() != len(model) {
		return fmt.Errorf("%d entries, want %d", t.Len(), len(model))
	}
	var got uint64
	for k := range model {
		v, ok := t.Get(k)
		if !ok {
			return fmt.Errorf("key %d lost", k)
		}
		got += k*v + k
	}
	if got != sum {
		return errors.New("values changed")
	}
	return nil
}
