// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloctest

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
)

// Fuzz runs the allocator contract under Go's fuzzer: each input is decoded
// into a sequence of Allocate, AllocateZeroed, Grow, GrowZeroed, Shrink and
// Deallocate calls (4 bytes an operation, see Decode), run against a model
// that checks every block's alignment, its contents after each resize,
// zeroed memory, that no two live blocks overlap, that invalid layouts and
// 2^62-byte requests fail with the right error and leave everything as it
// was. Call it from a fuzz target:
//
//	func FuzzAllocator(f *testing.F) {
//		nalloctest.Fuzz(f, nalloctest.Config{New: ...})
//	}
//
// If the environment variable NALLOC_FUZZ_COUNT names a file, the number of
// operations run is added to it (one line per flush, from every fuzzing
// worker), so that a long run can report how many operations it checked.
func Fuzz(f *testing.F, c Config) {
	for _, seed := range fuzzSeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a := c.New(t)
		ops := Decode(data)
		if err := runOps(a, ops); err != nil {
			t.Fatal(err)
		}
		countOps(len(ops))
	})
}

// Op is one decoded operation.
type Op struct {
	Kind   OpKind
	Layout nalloc.Layout // the layout asked for (the new one for resizes)
	Pick   int           // which live block a resize or free applies to
}

// OpKind says what an Op does.
type OpKind uint8

const (
	OpAllocate OpKind = iota
	OpAllocateZeroed
	OpGrow
	OpGrowZeroed
	OpShrink
	OpDeallocate
	numOpKinds
)

var opNames = [...]string{"Allocate", "AllocateZeroed", "Grow", "GrowZeroed", "Shrink", "Deallocate"}

func (k OpKind) String() string { return opNames[k] }

// Decode turns a fuzz input into operations, four bytes each: kind, pick,
// size and alignment. Sizes are log-spread from 0 to 1 MiB; size byte 255
// asks for 2^62 bytes, and alignment byte 255 for an alignment of 3 (both
// must fail cleanly). Other alignments are powers of two up to 64 KiB.
func Decode(data []byte) []Op {
	ops := make([]Op, 0, len(data)/4)
	for ; len(data) >= 4; data = data[4:] {
		op := Op{Kind: OpKind(data[0] % byte(numOpKinds)), Pick: int(data[1])}
		switch s := data[2]; s {
		case 255:
			op.Layout.Size = huge
		default:
			// s/12 picks the power of two (up to 2^20), s%12 an offset
			// below it, so that odd sizes and exact powers both occur.
			shift := uintptr(s / 12)
			op.Layout.Size = (uintptr(1) << shift) + uintptr(s%12)*(uintptr(1)<<shift)/12 - 1
		}
		switch al := data[3]; al {
		case 255:
			op.Layout.Align = 3
		default:
			op.Layout.Align = 1 << (al % 17)
		}
		ops = append(ops, op)
	}
	return ops
}

// maxLive bounds the live blocks of one fuzz input: beyond it, Allocate
// frees the oldest block first.
const maxLive = 64

// runOps runs ops against a, checking the contract at each step, and
// frees whatever is left at the end.
func runOps(a nalloc.Allocator, ops []Op) (err error) {
	var live []block
	defer func() {
		for _, b := range live {
			if err == nil {
				if cerr := check(b.p, b.l.Size, b.tag); cerr != nil {
					err = fmt.Errorf("at the end, live block %v: %w", b.l, cerr)
				}
			}
			a.Deallocate(b.p, b.l)
		}
	}()
	var tag byte
	for i, op := range ops {
		fail := func(format string, args ...any) error {
			return fmt.Errorf("operation %d (%v %v): %s", i, op.Kind, op.Layout, fmt.Sprintf(format, args...))
		}
		valid := op.Layout.Validate() == nil
		fits := op.Layout.Size != huge
		switch op.Kind {
		case OpAllocate, OpAllocateZeroed:
			var p unsafe.Pointer
			var err error
			if op.Kind == OpAllocate {
				p, err = a.Allocate(op.Layout)
			} else {
				p, err = nalloc.AllocateZeroed(a, op.Layout)
			}
			if e := expectFailure(p, err, valid, fits); e != nil {
				return fail("%v", e)
			}
			if err != nil {
				continue
			}
			if !aligned(p, op.Layout.Align) {
				return fail("%p is not aligned", p)
			}
			if op.Kind == OpAllocateZeroed {
				if e := checkZero(p, 0, op.Layout.Size); e != nil {
					return fail("%v", e)
				}
			}
			tag++
			b := block{p, op.Layout, tag}
			for _, o := range live {
				if e := overlap([]block{o, b}); e != nil {
					return fail("%v", e)
				}
			}
			fill(p, b.l.Size, b.tag)
			if len(live) == maxLive {
				a.Deallocate(live[0].p, live[0].l)
				live = live[1:]
			}
			live = append(live, b)
		case OpDeallocate:
			if len(live) == 0 {
				continue
			}
			j := op.Pick % len(live)
			b := live[j]
			if e := check(b.p, b.l.Size, b.tag); e != nil {
				return fail("before freeing %v: %v", b.l, e)
			}
			a.Deallocate(b.p, b.l)
			live = append(live[:j], live[j+1:]...)
		default: // the resizes
			if len(live) == 0 {
				continue
			}
			j := op.Pick % len(live)
			b := live[j]
			old, new := b.l, op.Layout
			var q unsafe.Pointer
			var err error
			wrongWay := false
			switch op.Kind {
			case OpGrow:
				wrongWay = new.Size < old.Size
				q, err = a.Grow(b.p, old, new)
			case OpGrowZeroed:
				wrongWay = new.Size < old.Size
				q, err = nalloc.GrowZeroed(a, b.p, old, new)
			case OpShrink:
				wrongWay = new.Size > old.Size
				q, err = a.Shrink(b.p, old, new)
			}
			if wrongWay && valid {
				if q != nil || !errors.Is(err, nalloc.ErrInvalidLayout) {
					return fail("from %v the wrong way = %p, %v; want ErrInvalidLayout", old, q, err)
				}
			} else if e := expectFailure(q, err, valid, fits); e != nil {
				return fail("from %v: %v", old, e)
			}
			if err != nil {
				// The block must be untouched and still ours.
				if e := check(b.p, old.Size, b.tag); e != nil {
					return fail("failed, but the block changed: %v", e)
				}
				continue
			}
			if !aligned(q, new.Align) {
				return fail("from %v = %p, not aligned", old, q)
			}
			if e := checkPrefix(q, old.Size, new.Size, b.tag); e != nil {
				return fail("from %v lost contents: %v", old, e)
			}
			if op.Kind == OpGrowZeroed {
				if e := checkZero(q, old.Size, new.Size); e != nil {
					return fail("from %v: %v", old, e)
				}
			}
			live[j] = block{q, new, b.tag}
			for k, o := range live {
				if k != j {
					if e := overlap([]block{o, live[j]}); e != nil {
						return fail("%v", e)
					}
				}
			}
			fill(q, new.Size, b.tag)
		}
	}
	return nil
}

// expectFailure checks the result of an allocating call against what its
// layout must give: ErrInvalidLayout for an invalid one, ErrOutOfMemory
// for 2^62 bytes, success otherwise.
func expectFailure(p unsafe.Pointer, err error, valid, fits bool) error {
	switch {
	case !valid:
		if p != nil || !errors.Is(err, nalloc.ErrInvalidLayout) {
			return fmt.Errorf("= %p, %v; want ErrInvalidLayout", p, err)
		}
	case !fits:
		if p != nil || !errors.Is(err, nalloc.ErrOutOfMemory) {
			return fmt.Errorf("= %p, %v; want ErrOutOfMemory", p, err)
		}
	case err != nil || p == nil:
		return fmt.Errorf("= %p, %v", p, err)
	}
	return nil
}

// fuzzSeeds exercise each operation, the failure paths and large blocks.
var fuzzSeeds = [][]byte{
	{0, 0, 60, 3, 0, 0, 100, 12, 2, 0, 130, 6, 4, 1, 10, 2, 5, 0, 0, 0},
	{1, 0, 200, 16, 3, 0, 200, 4, 2, 0, 255, 3, 0, 0, 1, 255, 5, 0, 0, 0},
	{0, 0, 0, 0, 0, 0, 0, 16, 2, 1, 240, 9, 4, 0, 50, 0, 3, 0, 20, 14, 5, 1, 0, 0},
}

var opCount struct {
	sync.Mutex
	pending atomic.Int64
}

// countOps adds n to the operation count, flushing it to the file named by
// NALLOC_FUZZ_COUNT every 65 536 operations.
func countOps(n int) {
	if opCount.pending.Add(int64(n)) < 1<<16 {
		return
	}
	path := os.Getenv("NALLOC_FUZZ_COUNT")
	if path == "" {
		return
	}
	opCount.Lock()
	defer opCount.Unlock()
	pending := opCount.pending.Swap(0)
	if pending == 0 {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	f.WriteString(strconv.FormatInt(pending, 10) + "\n")
}
