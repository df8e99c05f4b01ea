// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
)

// item is a 40-byte record with 8-byte alignment.
type item struct {
	ID  uint64
	Key [20]byte
	Pos [2]float32
}

func mkItem(i int) item {
	it := item{ID: uint64(i)}
	it.Key[i%20] = byte(i)
	it.Pos[1] = float32(i)
	return it
}

// checkVec compares v with the model: length, contents, and a capacity
// that holds them.
func checkVec[T comparable](t *testing.T, v *nalloc.Vec[T], model []T, when string) {
	t.Helper()
	if v.Len() != len(model) || v.Cap() < v.Len() {
		t.Fatalf("%s: Len %d Cap %d, model has %d", when, v.Len(), v.Cap(), len(model))
	}
	s := v.Slice()
	if len(s) != len(model) || cap(s) != len(model) {
		t.Fatalf("%s: Slice has len %d cap %d, want %d", when, len(s), cap(s), len(model))
	}
	for i := range model {
		if s[i] != model[i] {
			t.Fatalf("%s: element %d is %v, want %v", when, i, s[i], model[i])
		}
	}
}

// TestVecModel drives a Vec through 200 000 appends mixed with every other
// operation, on every allocator, against a Go slice doing the same.
func TestVecModel(t *testing.T) {
	forEachAllocator(t, func(t *testing.T, tr *tracker) {
		v, err := nalloc.NewVec[item](tr, 0)
		if err != nil {
			t.Fatal(err)
		}
		var model []item
		rng := rand.New(rand.NewChaCha8([32]byte{1}))
		next := 0
		for next < 200_000 {
			switch op := rng.IntN(1000); {
			case op < 900: // one element
				it := mkItem(next)
				next++
				if err := v.Append(it); err != nil {
					t.Fatal(err)
				}
				model = append(model, it)
			case op < 980: // a batch
				batch := make([]item, rng.IntN(300))
				for i := range batch {
					batch[i] = mkItem(next)
					next++
				}
				if err := v.Append(batch...); err != nil {
					t.Fatal(err)
				}
				model = append(model, batch...)
			case op < 985: // a view of itself, which growing may move
				tail := v.Slice()[len(model)/2:]
				model = append(model, model[len(model)/2:]...)
				if err := v.Append(tail...); err != nil {
					t.Fatal(err)
				}
			case op < 990:
				n := rng.IntN(len(model) + 1)
				if err := v.Truncate(n); err != nil {
					t.Fatal(err)
				}
				model = model[:n]
			case op < 993:
				if err := v.ShrinkToFit(); err != nil {
					t.Fatal(err)
				}
				if v.Cap() != len(model) {
					t.Fatalf("ShrinkToFit: Cap %d, Len %d", v.Cap(), len(model))
				}
			case op < 996:
				n := rng.IntN(5000)
				if err := v.Reserve(n); err != nil {
					t.Fatal(err)
				}
				if v.Cap() < len(model)+n {
					t.Fatalf("Reserve(%d) with Len %d: Cap %d", n, len(model), v.Cap())
				}
			case op < 997:
				c := v.Cap()
				v.Clear()
				model = model[:0]
				if v.Cap() != c {
					t.Fatalf("Clear changed Cap from %d to %d", c, v.Cap())
				}
			default: // overwrite through the view
				if len(model) > 0 {
					i := rng.IntN(len(model))
					v.Slice()[i].ID, model[i].ID = 1<<60, 1<<60
				}
			}
		}
		checkVec(t, v, model, "after 200000 appends")
		if l := nalloc.LayoutOf[item](); tr.liveBytes() != uintptr(v.Cap())*l.Size {
			t.Errorf("the allocator holds %d bytes for a Vec of Cap %d", tr.liveBytes(), v.Cap())
		}
		v.Free()
		if v.Len() != 0 || v.Cap() != 0 || v.Slice() != nil {
			t.Errorf("after Free: Len %d Cap %d", v.Len(), v.Cap())
		}
		// A freed Vec is empty and usable.
		if err := v.Append(mkItem(1), mkItem(2)); err != nil || v.Len() != 2 {
			t.Fatalf("Append after Free: %v, Len %d", err, v.Len())
		}
		v.Free()
	})
}

func TestVecGrowth(t *testing.T) {
	tr := track(t, nalloc.NewGoHeap())
	v, _ := nalloc.NewVec[uint32](tr, 0)
	var caps []int
	for i := range 100 {
		if err := v.Append(uint32(i)); err != nil {
			t.Fatal(err)
		}
		if len(caps) == 0 || caps[len(caps)-1] != v.Cap() {
			caps = append(caps, v.Cap())
		}
	}
	if want := []int{4, 8, 16, 32, 64, 128}; !slices.Equal(caps, want) {
		t.Errorf("capacities %v, want %v (doubling from 4)", caps, want)
	}
	// NewVec's capacity is exact; ShrinkToFit makes Cap equal to Len.
	w, _ := nalloc.NewVec[uint32](tr, 1000)
	if w.Cap() != 1000 {
		t.Errorf("NewVec(1000).Cap() = %d", w.Cap())
	}
	w.Append(1, 2, 3)
	if err := w.ShrinkToFit(); err != nil || w.Cap() != 3 || !slices.Equal(w.Slice(), []uint32{1, 2, 3}) {
		t.Errorf("ShrinkToFit: %v, Cap %d, %v", err, w.Cap(), w.Slice())
	}
	w.Clear()
	if err := w.ShrinkToFit(); err != nil || w.Cap() != 0 {
		t.Errorf("ShrinkToFit of an empty Vec: %v, Cap %d", err, w.Cap())
	}
	// Appending a full Vec to itself doubles it, from its moved block.
	for range 3 {
		v.ShrinkToFit()
		if err := v.Append(v.Slice()...); err != nil {
			t.Fatal(err)
		}
	}
	for i, x := range v.Slice() {
		if x != uint32(i%100) {
			t.Fatalf("after self-appends, element %d is %d", i, x)
		}
	}
	v.Free()
	w.Free()
	tr.checkEmpty()
}

func TestVecZeroSize(t *testing.T) {
	tr := track(t, nalloc.NewGoHeap())
	v, err := nalloc.NewVec[struct{}](tr, 10)
	if err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		v.Append(struct{}{}, struct{}{})
	}
	if v.Len() != 2000 || v.Cap() != math.MaxInt || len(v.Slice()) != 2000 || len(tr.live) != 0 {
		t.Errorf("Vec[struct{}]: Len %d Cap %d, %d blocks", v.Len(), v.Cap(), len(tr.live))
	}
	if err := v.ShrinkToFit(); err != nil {
		t.Error(err)
	}
	v.Free()
	if v.Len() != 0 {
		t.Errorf("Free left Len %d", v.Len())
	}
}

func TestVecInvalid(t *testing.T) {
	tr := track(t, nalloc.NewGoHeap())
	for _, n := range []int{-1, math.MaxInt / 4} {
		if _, err := nalloc.NewVec[item](tr, n); !errors.Is(err, nalloc.ErrInvalidLayout) {
			t.Errorf("NewVec(%d) err = %v, want ErrInvalidLayout", n, err)
		}
	}
	v, _ := nalloc.NewVec[item](tr, 0)
	v.Append(mkItem(0))
	for _, n := range []int{-1, math.MaxInt, math.MaxInt / 40} {
		if err := v.Reserve(n); !errors.Is(err, nalloc.ErrInvalidLayout) {
			t.Errorf("Reserve(%d) err = %v, want ErrInvalidLayout", n, err)
		}
	}
	if err := v.Truncate(-1); !errors.Is(err, nalloc.ErrInvalidLayout) || v.Len() != 1 {
		t.Errorf("Truncate(-1): %v, Len %d", err, v.Len())
	}
	if err := v.Truncate(5); err != nil || v.Len() != 1 {
		t.Errorf("Truncate(5) of a Vec of 1: %v, Len %d", err, v.Len())
	}
	// A byte Vec can grow up to math.MaxInt in principle: doubling stops
	// at the largest layout instead of overflowing (the allocator refuses).
	b, _ := nalloc.NewVec[byte](tr, 0)
	b.Append(1)
	tr.failOn(1, true)
	if err := b.Reserve(math.MaxInt - 1); !errors.Is(err, nalloc.ErrOutOfMemory) || b.Len() != 1 {
		t.Errorf("Reserve(MaxInt-1) of bytes: %v", err)
	}
	tr.failOn(0, false)
	v.Free()
	b.Free()
	tr.checkEmpty()

	var zero nalloc.Vec[int]
	if err := zero.Append(1); err == nil || zero.Len() != 0 {
		t.Errorf("Append to a zero Vec: %v", err)
	}
	zero.Free()
}

// TestVecFailures refuses each allocator call in turn, once, and checks that
// the operation that made it reports ErrOutOfMemory and leaves the Vec as
// it was, and that the Vec then carries on.
func TestVecFailures(t *testing.T) {
	run := func(tr *tracker) (failures int) {
		v, err := nalloc.NewVec[item](tr, 3)
		if err != nil {
			if !errors.Is(err, nalloc.ErrOutOfMemory) {
				t.Fatal(err)
			}
			return 1
		}
		var model []item
		for i := range 3000 {
			ptr, c := unsafe.SliceData(v.Slice()), v.Cap()
			var err error
			var add []item
			switch {
			case i%500 == 499:
				err = v.ShrinkToFit()
			case i%7 == 0:
				add = []item{mkItem(i), mkItem(i + 1), mkItem(i + 2)}
				err = v.Append(add...)
			case i%301 == 0 && len(model) > 0:
				add = slices.Clone(v.Slice()[:len(model)/2]) // the model's copy
				err = v.Append(v.Slice()[:len(model)/2]...)
			default:
				add = []item{mkItem(i)}
				err = v.Append(add...)
			}
			if err != nil {
				failures++
				if !errors.Is(err, nalloc.ErrOutOfMemory) {
					t.Fatalf("op %d: %v", i, err)
				}
				if unsafe.SliceData(v.Slice()) != ptr || v.Cap() != c {
					t.Fatalf("op %d failed but changed the Vec", i)
				}
				checkVec(t, v, model, "after a failure")
			} else {
				model = append(model, add...)
			}
		}
		checkVec(t, v, model, "at the end")
		v.Free()
		return failures
	}
	total := track(t, nalloc.NewGoHeap())
	run(total)
	total.checkEmpty()
	calls := total.calls
	if calls < 10 {
		t.Fatalf("only %d allocator calls to refuse", calls)
	}
	for k := 1; k <= calls; k++ {
		tr := track(t, nalloc.NewGoHeap())
		tr.failOn(k, false)
		if n := run(tr); n != 1 || tr.refusals != 1 {
			t.Fatalf("refusing call %d: %d operations failed, %d refusals", k, n, tr.refusals)
		}
		tr.checkEmpty()
	}
}

func TestNewVecNegativeCapacity(t *testing.T) {
	if _, err := nalloc.NewVec[struct{}](nalloc.NewGoHeap(), -1); !errors.Is(err, nalloc.ErrInvalidLayout) {
		t.Errorf("NewVec[struct{}](a, -1): %v, want ErrInvalidLayout", err)
	}
	if _, err := nalloc.NewVec[int](nalloc.NewGoHeap(), -1); !errors.Is(err, nalloc.ErrInvalidLayout) {
		t.Errorf("NewVec[int](a, -1): %v, want ErrInvalidLayout", err)
	}
}
