// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package bump_test

import (
	"testing"
	"time"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bump"
	"github.com/nalloc/nalloc/glibc"
)

// boxes is the arena-boxes workload's round: 1000 blocks of 64 bytes, all
// freed together.
const boxes = 1000

var (
	keepPtrs  [boxes]unsafe.Pointer // the round's blocks, live until the next round
	keepBoxes [boxes]*[64]byte
)

var box = nalloc.Layout{Size: 64, Align: 8}

// BenchmarkArenaBoxes is the shoot-out's arena-boxes workload, one round
// per op: 1000 blocks of 64 bytes, each written, all live until the round
// ends and then freed together (bump: one Reset; glibc: each block freed;
// Go: dropped for the collector). Run it with -benchtime=10000x for the
// workload's 10 000 rounds. ns/box is ns/op over 1000; the bump lines
// also report xGo, how many times faster they are than the Go heap's round
// measured right after them in the same process.
func BenchmarkArenaBoxes(b *testing.B) {
	b.Run("impl=bump/via=TryAlloc", func(b *testing.B) {
		a := bump.New()
		for b.Loop() {
			for i := range boxes {
				p := a.TryAlloc(64, 8)
				if p == nil {
					p = a.Alloc(64, 8)
				}
				*(*uint64)(p) = uint64(i)
				keepPtrs[i] = p
			}
			a.Reset()
		}
		perBox(b)
		reportVsGo(b)
	})
	b.Run("impl=bump/via=Alloc", func(b *testing.B) {
		a := bump.New()
		for b.Loop() {
			for i := range boxes {
				p := a.Alloc(64, 8)
				*(*uint64)(p) = uint64(i)
				keepPtrs[i] = p
			}
			a.Reset()
		}
		perBox(b)
		reportVsGo(b)
	})
	b.Run("impl=bump/via=interface", func(b *testing.B) {
		a := bump.New()
		var al nalloc.Allocator = a
		for b.Loop() {
			for i := range boxes {
				p, _ := al.Allocate(box)
				*(*uint64)(p) = uint64(i)
				keepPtrs[i] = p
			}
			a.Reset()
		}
		perBox(b)
		reportVsGo(b)
	})
	b.Run("impl=go/via=new", func(b *testing.B) {
		for b.Loop() {
			goRound()
		}
		perBox(b)
	})
	b.Run("impl=glibc/via=interface", func(b *testing.B) {
		g, err := glibc.Open()
		if err != nil {
			b.Skip(err)
		}
		var al nalloc.Allocator = g
		for b.Loop() {
			for i := range boxes {
				p, _ := al.Allocate(box)
				*(*uint64)(p) = uint64(i)
				keepPtrs[i] = p
			}
			for _, p := range keepPtrs {
				al.Deallocate(p, box)
			}
		}
		perBox(b)
	})
}

// goRound is one arena-boxes round on the Go heap.
func goRound() {
	for i := range boxes {
		p := new([64]byte)
		*(*uint64)(unsafe.Pointer(p)) = uint64(i)
		keepBoxes[i] = p
	}
}

func perBox(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/boxes, "ns/box")
}

// reportVsGo runs as many Go-heap rounds as b ran (at most 10 000), right
// after b's loop, and reports the ratio of their time per round to b's:
// the speed-up over the Go heap measured in the same run, as
// ctest.ReportVsC does against C.
func reportVsGo(b *testing.B) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.StopTimer()
	rounds := min(b.N, 10000)
	start := time.Now()
	for range rounds {
		goRound()
	}
	goNs := float64(time.Since(start).Nanoseconds()) / float64(rounds)
	b.ReportMetric(goNs/ns, "xGo")
}

// BenchmarkAlloc is one 64-byte allocation per op, the arena reset every
// 1000 (amortized in the figure): the fast path inlined (TryAlloc), as
// a call (Alloc), through the nalloc.Allocator interface, a bumpalo-style
// downward bump for comparison (see the package doc), and new([64]byte).
func BenchmarkAlloc(b *testing.B) {
	b.Run("impl=bump/via=TryAlloc", func(b *testing.B) {
		a := bump.New()
		i := 0
		for b.Loop() {
			p := a.TryAlloc(64, 8)
			if p == nil {
				p = a.Alloc(64, 8)
			}
			keepPtrs[i] = p
			if i++; i == boxes {
				i = 0
				a.Reset()
			}
		}
	})
	b.Run("impl=bump/via=Alloc", func(b *testing.B) {
		a := bump.New()
		i := 0
		for b.Loop() {
			keepPtrs[i] = a.Alloc(64, 8)
			if i++; i == boxes {
				i = 0
				a.Reset()
			}
		}
	})
	b.Run("impl=bump/via=interface", func(b *testing.B) {
		a := bump.New()
		var al nalloc.Allocator = a
		i := 0
		for b.Loop() {
			keepPtrs[i], _ = al.Allocate(box)
			if i++; i == boxes {
				i = 0
				a.Reset()
			}
		}
	})
	b.Run("impl=downward/via=TryAlloc", func(b *testing.B) {
		d := newDown(64 << 10)
		i := 0
		for b.Loop() {
			p := d.tryAlloc(64, 8)
			if p == nil {
				b.Fatal("the downward prototype's chunk is full")
			}
			keepPtrs[i] = p
			if i++; i == boxes {
				i = 0
				d.reset()
			}
		}
	})
	b.Run("impl=go/via=new", func(b *testing.B) {
		i := 0
		for b.Loop() {
			keepBoxes[i] = new([64]byte)
			if i++; i == boxes {
				i = 0
			}
		}
	})
}

// down is bumpalo's fast path transcribed to Go, for BenchmarkAlloc only:
// the pointer moves down from the chunk's end and is checked against the
// start. One chunk, no slow path.
type down struct {
	buf   []byte
	start uintptr
	ptr   uintptr
}

func newDown(n int) *down {
	d := &down{buf: make([]byte, n)}
	d.start = uintptr(unsafe.Pointer(&d.buf[0]))
	d.reset()
	return d
}

func (d *down) reset() { d.ptr = d.start + uintptr(len(d.buf)) - 1 }

func (d *down) tryAlloc(size, align uintptr) unsafe.Pointer {
	if d.ptr < size {
		return nil
	}
	p := (d.ptr - size) &^ (align - 1)
	if p < d.start {
		return nil
	}
	d.ptr = p
	return unsafe.Add(unsafe.Pointer(&d.buf[0]), p-d.start)
}
