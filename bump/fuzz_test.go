// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package bump_test

import (
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bump"
)

// fblock is a live block of the fuzz model. touched is the model's clock
// when the block was allocated, moved or grown in place: a Rewind to a
// mark taken before that takes the block's memory back.
type fblock struct {
	p       unsafe.Pointer
	l       nalloc.Layout
	tag     byte
	touched int
}

type fmark struct {
	m    bump.Mark
	time int
}

func (b *fblock) fill() {
	s := unsafe.Slice((*byte)(b.p), b.l.Size)
	for i := range s {
		s[i] = b.tag + byte(i)
	}
}

func (b *fblock) check(n uintptr) error {
	for i, c := range unsafe.Slice((*byte)(b.p), min(n, b.l.Size)) {
		if c != b.tag+byte(i) {
			return fmt.Errorf("block %p %v: byte %d is %#x, want %#x", b.p, b.l, i, c, b.tag+byte(i))
		}
	}
	return nil
}

// FuzzArena drives an arena with random Allocate, AllocateZeroed,
// Deallocate, Grow, Shrink, Checkpoint, Rewind and Reset calls, over small
// chunks, constant or doubling growth, a limit or a fixed buffer, and
// checks against a model that every live block keeps its contents, is
// aligned, and overlaps no other, and that the limit holds. Run it with
// the nalloc_invariants tag too, so that the arena's own bookkeeping is
// checked after every slow-path step.
func FuzzArena(f *testing.F) {
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"))
	f.Add([]byte("\x13\x00\x40\x08\x00\x41\x10\x05\x07\x02\x33\x06\x04\x01\x99\x07\x00\x00\x30\x02"))
	f.Add(slices.Repeat([]byte("\x25\x03\x00\x7f\x01\x06\x02\x10\x00\x05\x40\x04"), 20))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		cfg := data[0]
		data = data[1:]
		opts := []bump.Option{bump.WithChunkSize(64 << (cfg & 7))}
		if cfg&8 != 0 {
			opts = append(opts, bump.WithGrowth(bump.Constant))
		}
		const limit = 1 << 20
		switch cfg >> 4 & 3 {
		case 1:
			opts = append(opts, bump.WithLimit(limit))
		case 2:
			opts = append(opts, bump.WithBuffer(make([]byte, 64<<10)))
		}
		a := bump.New(opts...)
		var (
			live  []fblock
			marks []fmark
			clock int
			tag   byte
		)
		next := func() uint16 {
			if len(data) < 2 {
				data = nil
				return 0
			}
			v := binary.LittleEndian.Uint16(data)
			data = data[2:]
			return v
		}
		layout := func(v uint16) nalloc.Layout {
			return nalloc.Layout{Size: uintptr(v>>4) % 3000, Align: 1 << (v & 15 % 13)}
		}
		for len(data) > 0 {
			clock++
			op := next()
			switch op % 8 {
			case 0, 1: // Allocate, AllocateZeroed
				l := layout(next())
				var p unsafe.Pointer
				var err error
				if op%8 == 1 {
					p, err = a.AllocateZeroed(l)
				} else {
					p, err = a.Allocate(l)
				}
				if err != nil {
					continue // the limit or the buffer
				}
				if op%8 == 1 {
					for i, c := range unsafe.Slice((*byte)(p), l.Size) {
						if c != 0 {
							t.Fatalf("AllocateZeroed(%v) = %p: byte %d is %#x", l, p, i, c)
						}
					}
				}
				tag++
				b := fblock{p: p, l: l, tag: tag, touched: clock}
				b.fill()
				live = append(live, b)
			case 2: // Deallocate
				if len(live) == 0 {
					continue
				}
				i := int(next()) % len(live)
				if err := live[i].check(live[i].l.Size); err != nil {
					t.Fatal(err)
				}
				a.Deallocate(live[i].p, live[i].l)
				live = slices.Delete(live, i, i+1)
			case 3, 4: // Grow, Shrink
				if len(live) == 0 {
					continue
				}
				i := int(next()) % len(live)
				b := &live[i]
				l := layout(next())
				resize := a.Grow
				if l.Size < b.l.Size {
					resize = a.Shrink
				}
				q, err := resize(b.p, b.l, l)
				if err != nil {
					if err := b.check(b.l.Size); err != nil {
						t.Fatalf("after a failed resize: %v", err)
					}
					continue
				}
				if err := (&fblock{p: q, l: l, tag: b.tag}).check(b.l.Size); err != nil {
					t.Fatalf("resize %v -> %v: %v", b.l, l, err)
				}
				if q != b.p || l.Size > b.l.Size {
					b.touched = clock
				}
				b.p, b.l = q, l
				b.fill()
			case 5: // Checkpoint
				marks = append(marks, fmark{a.Checkpoint(), clock})
			case 6: // Rewind to the innermost mark
				if len(marks) == 0 {
					continue
				}
				m := marks[len(marks)-1]
				marks = marks[:len(marks)-1]
				if err := a.Rewind(m.m); err != nil {
					t.Fatalf("Rewind to a live mark: %v", err)
				}
				live = slices.DeleteFunc(live, func(b fblock) bool { return b.touched > m.time })
			case 7: // Reset, now and then
				if op%64 != 7 {
					continue
				}
				a.Reset()
				live, marks = live[:0], marks[:0]
			}
			if s, _ := a.Stats(); cfg>>4&3 == 1 && s.Mapped > limit {
				t.Fatalf("the arena holds %d bytes, over its limit of %d", s.Mapped, limit)
			}
		}
		sorted := slices.Clone(live)
		slices.SortFunc(sorted, func(x, y fblock) int { return int(uintptr(x.p)) - int(uintptr(y.p)) })
		for i, b := range sorted {
			if uintptr(b.p)%b.l.Align != 0 {
				t.Fatalf("block %p %v is not aligned", b.p, b.l)
			}
			if err := b.check(b.l.Size); err != nil {
				t.Fatal(err)
			}
			if i > 0 && b.l.Size > 0 {
				prev := sorted[i-1]
				if uintptr(prev.p)+prev.l.Size > uintptr(b.p) && prev.l.Size > 0 {
					t.Fatalf("blocks overlap: %p %v and %p %v", prev.p, prev.l, b.p, b.l)
				}
			}
		}
	})
}
