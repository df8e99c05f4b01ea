// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"errors"
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bump"
	"github.com/nalloc/nalloc/glibc"
)

// fuzzAllocator picks the allocator a container fuzz input runs on, from
// its first byte, wrapped in a tracker that checks every block comes back
// once with its layout, and that can refuse a chosen call.
func fuzzAllocator(t *testing.T, pick byte) *tracker {
	var a nalloc.Allocator
	switch pick % 3 {
	case 0:
		a = nalloc.NewGoHeap()
	case 1:
		g, err := glibc.Open()
		if err != nil {
			t.Fatal(err)
		}
		a = g
	default:
		a = bump.New(bump.WithChunkSize(256))
	}
	return track(t, a)
}

// FuzzVec drives a Vec with operations decoded from the input, 2 bytes
// each (operation, argument), against a Go slice, on the go, glibc or bump
// allocator. One operation arms a refusal of the allocator's next call:
// the operation that meets it must fail with ErrOutOfMemory and leave the
// Vec exactly as the model.
func FuzzVec(f *testing.F) {
	f.Add([]byte{1, 0, 10, 0, 20, 1, 3, 5, 40, 2, 7, 0, 0, 9, 0, 1})
	f.Add([]byte{2, 0, 30, 6, 0, 2, 0, 200, 4, 0, 5, 2, 0, 255, 1, 8})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		tr := fuzzAllocator(t, data[0])
		v, err := nalloc.NewVec[item](tr, int(data[0]>>2))
		if err != nil {
			t.Fatal(err)
		}
		var model []item
		next := 0
		for ops := data[1:]; len(ops) >= 2; ops = ops[2:] {
			op, arg := ops[0]%8, int(ops[1])
			var err error
			switch op {
			case 0, 1: // append arg items, in one call
				xs := make([]item, arg)
				for i := range xs {
					xs[i] = mkItem(next)
					next++
				}
				if err = v.Append(xs...); err == nil {
					model = append(model, xs...)
				}
			case 2: // reserve
				err = v.Reserve(arg * 3)
			case 3: // truncate to a length it has
				n := arg % (len(model) + 1)
				if err = v.Truncate(n); err == nil {
					model = model[:n]
				}
			case 4: // shrink to fit
				err = v.ShrinkToFit()
			case 5: // clear, keeping the capacity
				v.Clear()
				model = model[:0]
			case 6: // free, then use again
				v.Free()
				model = nil
			case 7: // refuse the allocator's next call
				tr.failOn(1, false)
				continue
			}
			if err != nil && !errors.Is(err, nalloc.ErrOutOfMemory) {
				t.Fatalf("op %d(%d): %v", op, arg, err)
			}
			tr.failOn(0, false)
			checkVec(t, v, model, "after an operation")
		}
		v.Free()
		if len(tr.live) != 0 {
			t.Fatalf("%d blocks live after Free", len(tr.live))
		}
	})
}

// FuzzMap drives a Map with operations decoded from the input, 3 bytes
// each (operation, key, value), against a Go map, on the go, glibc or bump
// allocator, with refusals armed by one operation: a TryPut that meets
// one must return ErrOutOfMemory and leave the map as the model.
func FuzzMap(f *testing.F) {
	f.Add([]byte{1, 0, 1, 2, 0, 2, 3, 1, 0, 2, 9, 0, 4, 5, 0, 0})
	f.Add([]byte{0, 0, 200, 7, 1, 0, 3, 0, 0, 0, 9, 9, 2, 200, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		tr := fuzzAllocator(t, data[0])
		m, err := nalloc.NewMap[key, val](tr, int(data[0]>>3))
		if err != nil {
			t.Fatal(err)
		}
		model := map[key]val{}
		for ops := data[1:]; len(ops) >= 3; ops = ops[3:] {
			op, k, x := ops[0]%6, mkKey(uint64(ops[1])), uint64(ops[2])
			switch op {
			case 0, 1: // put
				if err := m.TryPut(k, mkVal(x)); err == nil {
					model[k] = mkVal(x)
				} else if !errors.Is(err, nalloc.ErrOutOfMemory) {
					t.Fatal(err)
				}
			case 2: // put a run of keys, to grow the map
				for i := range x {
					kk := mkKey(uint64(ops[1])<<8 | i)
					if err := m.TryPut(kk, mkVal(i)); err == nil {
						model[kk] = mkVal(i)
					} else if !errors.Is(err, nalloc.ErrOutOfMemory) {
						t.Fatal(err)
					}
				}
			case 3:
				m.Delete(k)
				delete(model, k)
			case 4:
				got, ok := m.Get(k)
				if want, in := model[k]; ok != in || got != want {
					t.Fatalf("Get(%v) = %v, %v; the model has %v, %v", k, got, ok, want, in)
				}
			case 5: // refuse the allocator's next call
				tr.failOn(1, false)
				continue
			}
			tr.failOn(0, false)
			checkMap(t, m, model, "after an operation")
		}
		m.Close()
		if len(tr.live) != 0 {
			t.Fatalf("%d blocks live after Close", len(tr.live))
		}
	})
}

// FuzzLayout checks NewLayout and ArrayLayout against the rule they
// implement, computed with no chance of overflow: Align a power of two,
// and Size rounded up to Align at most MaxInt.
func FuzzLayout(f *testing.F) {
	f.Add(uint64(64), uint64(8), int64(10))
	f.Add(uint64(1<<63-1), uint64(1), int64(-1))
	f.Add(uint64(1<<62), uint64(1<<62), int64(1<<60))
	f.Fuzz(func(t *testing.T, size, align uint64, n int64) {
		_, err := nalloc.NewLayout(uintptr(size), uintptr(align))
		pow2 := align != 0 && align&(align-1) == 0
		// Round up, watching the carry out of size + align - 1.
		fits := false
		if pow2 {
			lo := size + (align - 1)
			carry := lo < size
			rounded := lo &^ (align - 1)
			fits = !carry && rounded <= 1<<63-1
		}
		if (err == nil) != fits {
			t.Fatalf("NewLayout(%d, %d) err = %v; the rule says valid = %v", size, align, err, fits)
		}
		if err != nil && !errors.Is(err, nalloc.ErrInvalidLayout) {
			t.Fatalf("NewLayout(%d, %d): %v does not wrap ErrInvalidLayout", size, align, err)
		}
		l, err := nalloc.ArrayLayout[item](int(n))
		okN := n >= 0 && uint64(n) <= (1<<63-1)/40
		if (err == nil) != okN || (err == nil && l.Size != uintptr(n)*40) {
			t.Fatalf("ArrayLayout[item](%d) = %v, %v", n, l, err)
		}
	})
}
