// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package arrowalloc_test

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/arrowalloc"
)

// FuzzAllocator drives random Allocate, Reallocate and Free calls, as
// arrow-go makes them, on arrowalloc over each required allocator, and
// checks every buffer against a model after each call: its length and
// capacity, its alignment, the bytes it keeps and the zeros it gains.
// Every live buffer holds its own pattern, so two that overlap show as a
// corrupted one. Each operation is 3 bytes: what (Allocate, Reallocate,
// Free), which live buffer, and a size (up to 2 MiB, mostly small).
func FuzzAllocator(f *testing.F) {
	f.Add([]byte{0, 0, 10, 0, 0, 200, 1, 0, 255, 1, 1, 3, 2, 0, 0, 2, 0, 0})
	f.Add([]byte{0, 0, 0, 1, 0, 40, 1, 0, 0, 0, 0, 250, 1, 0, 251, 1, 0, 20})
	allocs := map[string]nalloc.Allocator{}
	for _, name := range required {
		a, err := nalloc.Open(name)
		if err != nil {
			f.Fatalf("nalloc.Open(%q): %v", name, err)
		}
		allocs[name] = nalloc.NewChecked(a, nalloc.WithPoisonFresh(), nalloc.WithStackDepth(0))
	}
	f.Fuzz(func(t *testing.T, ops []byte) {
		for name, a := range allocs {
			if err := runOps(arrowalloc.New(a), ops); err != nil {
				t.Fatalf("alloc=%s: %v", name, err)
			}
			c := a.(*nalloc.Checked)
			if err := c.Err(); err != nil {
				t.Fatalf("alloc=%s: %v", name, err)
			}
			if n := len(c.Leaks()); n > 0 {
				t.Fatalf("alloc=%s: %d blocks never given back", name, n)
			}
		}
	})
}

// fuzzSize maps a byte to a size: 0 to 255 bytes for most values, and
// sizes up to 2 MiB (past the mmap thresholds) for the top ones.
func fuzzSize(b byte) int {
	if b < 240 {
		return int(b)
	}
	return 1 << (b - 240 + 6) // 64 B to 2 MiB
}

// runOps runs ops on mem against a model and frees what is left.
func runOps(mem memory.Allocator, ops []byte) error {
	type live struct {
		b   []byte
		tag byte
	}
	var bufs []live
	defer func() {
		for _, l := range bufs {
			mem.Free(l.b)
		}
	}()
	check := func(b []byte, n, kept int, tag byte, what string) error {
		if len(b) != n || cap(b) != n || b == nil {
			return fmt.Errorf("%s: len %d cap %d nil=%v, want %d", what, len(b), cap(b), b == nil, n)
		}
		if n > 0 && addr(b)%arrowalloc.Alignment != 0 {
			return fmt.Errorf("%s: %#x is not %d-byte aligned", what, addr(b), arrowalloc.Alignment)
		}
		if err := holds(b, kept, tag); err != nil {
			return fmt.Errorf("%s: %v", what, err)
		}
		if err := zero(b, kept); err != nil {
			return fmt.Errorf("%s: %v", what, err)
		}
		fill(b, tag)
		return nil
	}
	for i := 0; i+3 <= len(ops); i += 3 {
		op, size := ops[i]%3, fuzzSize(ops[i+2])
		if op != 0 && len(bufs) == 0 {
			op = 0
		}
		var pick int
		if len(bufs) > 0 {
			pick = int(ops[i+1]) % len(bufs)
		}
		switch op {
		case 0:
			tag := byte(i/3) | 1
			b := mem.Allocate(size)
			if err := check(b, size, 0, tag, fmt.Sprintf("op %d: Allocate(%d)", i/3, size)); err != nil {
				return err
			}
			bufs = append(bufs, live{b, tag})
		case 1:
			l := &bufs[pick]
			old := len(l.b)
			l.b = mem.Reallocate(size, l.b)
			if err := check(l.b, size, min(old, size), l.tag,
				fmt.Sprintf("op %d: Reallocate(%d) of %d bytes", i/3, size, old)); err != nil {
				return err
			}
		case 2:
			mem.Free(bufs[pick].b)
			bufs = append(bufs[:pick], bufs[pick+1:]...)
		}
	}
	for i, l := range bufs {
		if err := holds(l.b, len(l.b), l.tag); err != nil {
			return fmt.Errorf("at the end, live buffer %d of %d bytes: %v (overwritten by another?)", i, len(l.b), err)
		}
	}
	return nil
}
