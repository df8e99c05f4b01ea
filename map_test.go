// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
)

// key is a 16-byte key; val a 24-byte value.
type (
	key struct{ Hi, Lo uint64 }
	val struct {
		N    uint64
		Tail [16]byte
	}
)

func mkKey(i uint64) key { return key{Hi: i * 0x9e3779b97f4a7c15, Lo: i} }
func mkVal(i uint64) val { v := val{N: i}; v.Tail[i%16] = byte(i); return v }

// checkMap compares m with the model through Len, Get and All.
func checkMap[K comparable, V comparable](t *testing.T, m *nalloc.Map[K, V], model map[K]V, when string) {
	t.Helper()
	if m.Len() != len(model) {
		t.Fatalf("%s: Len %d, model has %d", when, m.Len(), len(model))
	}
	for k, want := range model {
		if got, ok := m.Get(k); !ok || got != want {
			t.Fatalf("%s: Get(%v) = %v, %v; want %v", when, k, got, ok, want)
		}
	}
	seen := 0
	for k, v := range m.All() {
		if want, ok := model[k]; !ok || v != want {
			t.Fatalf("%s: All yields %v: %v, model has %v, %v", when, k, v, want, ok)
		}
		seen++
	}
	if seen != len(model) {
		t.Fatalf("%s: All yields %d entries, want %d", when, seen, len(model))
	}
}

// TestMapModel grows a Map to 100 000 entries with deletes, replacements
// and misses mixed in, on every allocator, against a Go map doing the same.
func TestMapModel(t *testing.T) {
	forEachAllocator(t, func(t *testing.T, tr *tracker) {
		m, err := nalloc.NewMap[key, val](tr, 0)
		if err != nil {
			t.Fatal(err)
		}
		model := make(map[key]val)
		rng := rand.New(rand.NewChaCha8([32]byte{2}))
		var next uint64
		for len(model) < 100_000 {
			switch op := rng.IntN(100); {
			case op < 60:
				k := mkKey(next)
				next++
				m.Put(k, mkVal(next))
				model[k] = mkVal(next)
			case op < 70:
				k := mkKey(next)
				next++
				if err := m.TryPut(k, mkVal(next)); err != nil {
					t.Fatal(err)
				}
				model[k] = mkVal(next)
			case op < 85 && next > 0: // delete, perhaps a key already gone
				k := mkKey(rng.Uint64N(next))
				m.Delete(k)
				delete(model, k)
			case op < 90 && next > 0: // replace, perhaps re-insert
				k := mkKey(rng.Uint64N(next))
				m.Put(k, mkVal(7))
				model[k] = mkVal(7)
			default:
				k := mkKey(rng.Uint64N(next + 100))
				got, ok := m.Get(k)
				if want, in := model[k]; ok != in || got != want {
					t.Fatalf("Get(%v) = %v, %v; model %v, %v", k, got, ok, want, in)
				}
			}
			if next%25_000 == 0 {
				checkMap(t, m, model, "growing")
			}
		}
		checkMap(t, m, model, "at 100000 entries")
		if f := nalloc.MapFallbacks(m); f != 0 {
			t.Errorf("%d fallback blocks with an allocator that never refused", f)
		}
		m.Clear()
		checkMap(t, m, map[key]val{}, "after Clear")
		m.Put(mkKey(1), mkVal(1))
		m.Close()
		tr.checkEmpty()
		// A closed Map is empty and usable.
		checkMap(t, m, map[key]val{}, "after Close")
		m.Put(mkKey(1), mkVal(1))
		checkMap(t, m, map[key]val{mkKey(1): mkVal(1)}, "reused after Close")
		m.Close()
		m.Close()
	})
}

// TestMapChangedDuringAll grows, deletes from and closes a Map inside All
// loops: the blocks swiss frees meanwhile must stay allocated until the
// loop ends (the tracker would see the loop read freed memory only
// indirectly, so the check is that the freed blocks are still live while
// the loop runs).
func TestMapChangedDuringAll(t *testing.T) {
	tr := track(t, nalloc.NewGoHeap())
	m, _ := nalloc.NewMap[uint64, uint64](tr, 0)
	for i := range uint64(100) {
		m.Put(i, i)
	}
	blocks := len(tr.live)
	seen, grew := 0, false
	for k, v := range m.All() {
		if k != v {
			t.Fatalf("All yields %d: %d", k, v)
		}
		if seen++; seen == 10 {
			for i := range uint64(10_000) {
				m.Put(1000+i, 1000+i)
			}
			m.Delete(k)
			grew = len(tr.live) > blocks+1
		}
	}
	if !grew {
		t.Errorf("the blocks freed while the loop ran were not held: %d live, %d before", len(tr.live), blocks)
	}
	checkMap(t, m, func() map[uint64]uint64 {
		model := make(map[uint64]uint64)
		for k, v := range m.All() {
			model[k] = v
		}
		return model
	}(), "after changes in a loop")
	if m.Len() != 100+10_000-1 {
		t.Errorf("Len %d after the loop", m.Len())
	}
	for range m.All() {
		m.Close()
	}
	if m.Len() != 0 {
		t.Errorf("Len %d after Close in a loop", m.Len())
	}
	m.Close()
	tr.checkEmpty()
}

// mapOps drives a Map with TryPut through inserts, deletes and
// replacements that take it through single-bucket growth and several
// bucket splits, checking after each refusal that the map is exactly the
// model, and that the same TryPut then succeeds. It returns the number of
// refusals TryPut reported.
//
// The first phase holds the map, at each single-bucket size c, at the
// edge of swiss's rule for growing: a sliding window of c*7/8-c/3+1 keys
// (insert the newest, delete the oldest) fills the bucket with tombstones
// until swiss must grow it, one entry short of the count at which it would
// rehash in place instead. The second phase inserts, replaces and deletes
// at random until the map has several buckets that split.
func mapOps(t *testing.T, m *nalloc.Map[uint64, val], model map[uint64]val) (failures int) {
	next, oldest := uint64(0), uint64(0)
	put := func(k uint64) {
		t.Helper()
		err := m.TryPut(k, mkVal(k))
		if err != nil {
			failures++
			if !errors.Is(err, nalloc.ErrOutOfMemory) {
				t.Fatalf("TryPut(%d): %v", k, err)
			}
			if _, in := model[k]; in {
				t.Fatalf("TryPut(%d) of a key that is there failed: %v", k, err)
			}
			if _, ok := m.Get(k); ok {
				t.Fatalf("a failed TryPut(%d) left its key in the map", k)
			}
			checkMap(t, m, model, "after a refused TryPut")
			if err := m.TryPut(k, mkVal(k)); err != nil {
				t.Fatalf("TryPut(%d) again: %v", k, err)
			}
		}
		model[k] = mkVal(k)
	}
	del := func(k uint64) {
		m.Delete(k)
		delete(model, k)
	}
	for c := 16; c <= 4096; c *= 2 {
		window := c*7/8 - c/3 + 1
		for len(model) < window {
			put(next)
			next++
		}
		for range 4 * c {
			put(next)
			next++
			for len(model) > window {
				del(oldest)
				oldest++
			}
		}
	}
	rng := rand.New(rand.NewChaCha8([32]byte{3}))
	for i := next; i < next+40_000; i++ {
		k := i
		if i%5 == 4 { // replace or re-insert an older key
			k = rng.Uint64N(i)
		}
		put(k)
		if i%3 == 0 {
			del(rng.Uint64N(i + 1))
		}
	}
	return failures
}

// TestMapTryPutFailsCleanly refuses each allocator call in turn, once:
// the TryPut it belongs to must fail with ErrOutOfMemory and leave the map
// exactly as it was, without a Go heap fallback (TryPut reserved what
// swiss was going to ask for), and nothing may leak.
func TestMapTryPutFailsCleanly(t *testing.T) {
	ref := track(t, nalloc.NewGoHeap())
	m, _ := nalloc.NewMap[uint64, val](ref, 0)
	mapOps(t, m, make(map[uint64]val))
	calls, spare := ref.calls, nalloc.MapSpareBytes(m)
	m.Close()
	ref.checkEmpty()
	if calls < 10 {
		t.Fatalf("only %d allocator calls to refuse", calls)
	}
	t.Logf("%d allocator calls; spare block at the end %d bytes", calls, spare)
	failed := 0
	for k := 1; k <= calls; k++ {
		tr := track(t, nalloc.NewGoHeap())
		m, _ := nalloc.NewMap[uint64, val](tr, 0)
		tr.failOn(k, false)
		model := make(map[uint64]val)
		// A refusal fails the TryPut of a new key; one that replaces a
		// value needs no memory and succeeds anyway.
		n := mapOps(t, m, model)
		if n > 1 || tr.refusals != 1 {
			t.Fatalf("refusing call %d: %d TryPuts failed, %d refusals", k, n, tr.refusals)
		}
		failed += n
		if f := nalloc.MapFallbacks(m); f != 0 {
			t.Fatalf("refusing call %d: swiss asked for %d blocks TryPut had not reserved", k, f)
		}
		checkMap(t, m, model, "at the end")
		m.Close()
		tr.checkEmpty()
	}
	if failed < calls/2 {
		t.Errorf("only %d of %d refusals reached a TryPut of a new key", failed, calls)
	}
}

// TestMapPutPanicsIntact has the allocator refuse everything from the k-th
// call on: Put must panic with ErrOutOfMemory, the map must hold what it
// held, and go on working for replacements and deletes.
func TestMapPutPanicsIntact(t *testing.T) {
	for k := 1; k <= 6; k++ {
		tr := track(t, nalloc.NewGoHeap())
		m, _ := nalloc.NewMap[uint64, uint64](tr, 0)
		model := make(map[uint64]uint64)
		tr.failOn(k, true)
		var err error
		func() {
			defer func() { err, _ = recover().(error) }()
			for i := uint64(0); ; i++ {
				m.Put(i, i)
				model[i] = i
			}
		}()
		if !errors.Is(err, nalloc.ErrOutOfMemory) {
			t.Fatalf("Put with call %d on refused: panic %v, want ErrOutOfMemory", k, err)
		}
		if nalloc.MapFallbacks(m) == 0 {
			t.Errorf("Put with call %d on refused: no fallback block", k)
		}
		checkMap(t, m, model, "after Put panicked")
		// The fallback block may have room for more entries; once it is
		// full, TryPut reports the refusal.
		for i := uint64(len(model)); ; i++ {
			err := m.TryPut(i, i)
			if err != nil {
				if !errors.Is(err, nalloc.ErrOutOfMemory) {
					t.Fatal(err)
				}
				break
			}
			model[i] = i
		}
		checkMap(t, m, model, "after TryPut failed")
		for i := range uint64(len(model)) {
			if err := m.TryPut(i, i+1); err != nil {
				t.Fatalf("TryPut of a key that is there: %v", err)
			}
			model[i] = i + 1
		}
		m.Delete(0)
		delete(model, 0)
		checkMap(t, m, model, "after replacing")
		m.Close()
		tr.checkEmpty()
	}
}

func TestNewMapFailures(t *testing.T) {
	for _, capacity := range []int{1, 100, 5000, 60_000} {
		for k := 1; ; k++ {
			tr := track(t, nalloc.NewGoHeap())
			tr.failOn(k, false)
			m, err := nalloc.NewMap[uint64, uint64](tr, capacity)
			if err == nil {
				if k == 1 {
					t.Fatalf("NewMap(%d) made no allocator call", capacity)
				}
				m.Close()
				break
			}
			if !errors.Is(err, nalloc.ErrOutOfMemory) {
				t.Fatalf("NewMap(%d) refused at call %d: %v", capacity, k, err)
			}
			tr.checkEmpty()
		}
	}
	tr := track(t, nalloc.NewGoHeap())
	for _, tt := range []struct {
		capacity int
		want     error
	}{
		{-1, nalloc.ErrInvalidLayout},
		{math.MaxInt, nalloc.ErrInvalidLayout},
		{math.MaxInt / 16, nalloc.ErrInvalidLayout},
		{1 << 50, nalloc.ErrOutOfMemory},
	} {
		if _, err := nalloc.NewMap[uint64, uint64](tr, tt.capacity); !errors.Is(err, tt.want) {
			t.Errorf("NewMap(%d) err = %v, want %v", tt.capacity, err, tt.want)
		}
	}
	tr.checkEmpty()
	// A presized map takes no allocator call until it is full, with Put or
	// TryPut (its buckets split, which needs no reservation).
	m, err := nalloc.NewMap[uint64, uint64](tr, 50_000)
	if err != nil {
		t.Fatal(err)
	}
	tr.failOn(1, true)
	for i := range uint64(50_000) {
		if i%2 == 0 {
			m.Put(i, i)
		} else if err := m.TryPut(i, i); err != nil {
			t.Fatalf("TryPut %d into a map presized for 50000: %v", i, err)
		}
	}
	m.Close()
	tr.checkEmpty()
}

// Map refuses entries so large that swiss would copy a group to the Go
// heap on every lookup (NewMap's doc says what to do instead).
func TestMapRefusesHugeGroups(t *testing.T) {
	_, err := nalloc.NewMap[uint64, [20 << 10]byte](nalloc.NewGoHeap(), 0)
	if !errors.Is(err, nalloc.ErrInvalidLayout) || !strings.Contains(err.Error(), "over 128 KiB") {
		t.Fatalf("NewMap with 20 KiB values: %v; want ErrInvalidLayout naming the limit", err)
	}
	m, err := nalloc.NewMap[uint64, [8 << 10]byte](nalloc.NewGoHeap(), 0)
	if err != nil {
		t.Fatalf("NewMap with 8 KiB values: %v", err)
	}
	m.Put(1, [8 << 10]byte{7})
	if n := testing.AllocsPerRun(10, func() { m.Get(1) }); n != 0 {
		t.Errorf("Get with 8 KiB values made %v Go allocations", n)
	}
	m.Close()
}

// TestMapTryPutHoldsNoSpare fills maps with TryPut and no deletes: the
// block of a doubling is allocated by the insert that doubles the map, and
// a map that splits needs none, so no TryPut leaves a spare block behind,
// and many small maps filled with TryPut hold exactly what the same maps
// filled with Put hold.
func TestMapTryPutHoldsNoSpare(t *testing.T) {
	tr := track(t, nalloc.NewGoHeap())
	m, _ := nalloc.NewMap[uint64, val](tr, 0)
	for i := range uint64(30_000) { // past several doublings and splits
		if err := m.TryPut(i, mkVal(i)); err != nil {
			t.Fatal(err)
		}
		if s := nalloc.MapSpareBytes(m); s != 0 {
			t.Fatalf("after TryPut of entry %d: a spare block of %d bytes", i, s)
		}
		if i%7 == 0 { // replacing needs nothing either
			if err := m.TryPut(i/2, mkVal(i)); err != nil || nalloc.MapSpareBytes(m) != 0 {
				t.Fatalf("TryPut replacing entry %d: %v, spare %d bytes", i/2, err, nalloc.MapSpareBytes(m))
			}
		}
	}
	m.Close()
	tr.checkEmpty()

	// 64 maps of 1 to 4000 entries each, as a sharded cache holds them.
	held := func(put func(m *nalloc.Map[uint64, val], k uint64) error) uintptr {
		tr := track(t, nalloc.NewGoHeap())
		var maps []*nalloc.Map[uint64, val]
		for s := range uint64(64) {
			m, _ := nalloc.NewMap[uint64, val](tr, 0)
			for i := range 1 + s*s {
				if err := put(m, i); err != nil {
					t.Fatal(err)
				}
			}
			maps = append(maps, m)
		}
		n := tr.liveBytes()
		for _, m := range maps {
			m.Close()
		}
		tr.checkEmpty()
		return n
	}
	withPut := held(func(m *nalloc.Map[uint64, val], k uint64) error { m.Put(k, mkVal(k)); return nil })
	withTryPut := held(func(m *nalloc.Map[uint64, val], k uint64) error { return m.TryPut(k, mkVal(k)) })
	if withTryPut != withPut {
		t.Errorf("64 maps filled with TryPut hold %d bytes, with Put %d", withTryPut, withPut)
	}
}

// TestMapTryPutGivesBackTheSpare: after deletes, TryPut reserves the block
// of the doubling ahead of the insert that needs it (the deletes may have
// left tombstones), and gives it back once deletes take the map out of
// reach of the doubling, or at Clear.
func TestMapTryPutGivesBackTheSpare(t *testing.T) {
	tr := track(t, nalloc.NewGoHeap())
	m, _ := nalloc.NewMap[uint64, val](tr, 0)
	model := make(map[uint64]val)
	put := func(k uint64) {
		t.Helper()
		if err := m.TryPut(k, mkVal(k)); err != nil {
			t.Fatal(err)
		}
		model[k] = mkVal(k)
	}
	del := func(k uint64) { m.Delete(k); delete(model, k) }
	// A bucket of 1024 slots (full at 896), 100 deletes: the doubling may
	// come from 796 entries on.
	next := uint64(0)
	for ; next < 500; next++ {
		put(next)
	}
	for k := range uint64(100) {
		del(k)
	}
	reserved := false
	for len(model) < 896 && !reserved {
		put(next)
		next++
		reserved = nalloc.MapSpareBytes(m) > 0
	}
	if !reserved || len(model) < 796 {
		t.Fatalf("TryPut reserved the doubling's block: %v, at %d entries; want it from 796 entries on", reserved, len(model))
	}
	for k := uint64(100); k < 400; k++ {
		del(k)
	}
	put(next) // 497 entries, 400 deletes: the doubling needs 896 - 341 at least
	next++
	if s := nalloc.MapSpareBytes(m); s != 0 {
		t.Errorf("a spare block of %d bytes after deletes took the map far from its doubling", s)
	}
	checkMap(t, m, model, "after the spare went back")
	for len(model) < 895 && nalloc.MapSpareBytes(m) == 0 {
		put(next)
		next++
	}
	if nalloc.MapSpareBytes(m) == 0 {
		t.Fatal("TryPut reserved nothing near the doubling after deletes")
	}
	m.Clear()
	if s := nalloc.MapSpareBytes(m); s != 0 {
		t.Errorf("a spare block of %d bytes after Clear", s)
	}
	m.Close()
	tr.checkEmpty()
}

// TestMapMemoryOfLargeValues checks the Memory section's bound: the groups
// of a map of 544-byte entries take from 8/7 to 16/7 of the entries'
// bytes (plus the 8 control bytes a group), whatever its size, single
// bucket or many.
func TestMapMemoryOfLargeValues(t *testing.T) {
	type record [512]byte
	tr := track(t, nalloc.NewGoHeap())
	m, _ := nalloc.NewMap[key, record](tr, 0)
	defer func() { m.Close(); tr.checkEmpty() }()
	entry := float64(unsafe.Sizeof(key{}) + unsafe.Sizeof(record{}))
	lo, hi := math.Inf(1), 0.0
	for i := range uint64(60_000) {
		m.Put(mkKey(i), record{byte(i)})
		if n := i + 1; n >= 8 && n%97 == 0 {
			ratio := float64(tr.liveBytes()) / (float64(n) * entry)
			lo, hi = min(lo, ratio), max(hi, ratio)
		}
	}
	perGroup := (8*entry + 8) / (8 * entry) // the control bytes
	if lo < 8.0/7 || hi > 16.0/7*perGroup {
		t.Errorf("the groups took %.2f to %.2f times the entries' bytes, outside 8/7 to 16/7", lo, hi)
	}
	t.Logf("groups / entries' bytes: %.2f to %.2f", lo, hi)
}
