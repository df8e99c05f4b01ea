// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bump"
	"github.com/nalloc/nalloc/glibc"
	"github.com/nalloc/nalloc/internal/ffi"
	"github.com/nalloc/nalloc/nalloctest"
)

func openGlibc(t testing.TB) *glibc.Allocator {
	t.Helper()
	g, err := glibc.Open()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// glibcAllocates says whether glibc's calls allocate on the Go heap: only
// on the purego path (the nalloc_purego tag, or no assembly).
var glibcAllocates = ffi.FastPath == ffi.PathPurego

func TestWrapperConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  nalloctest.Config
	}{
		{"Checked/glibc", nalloctest.Config{
			New:         func(t testing.TB) nalloc.Allocator { return nalloc.NewChecked(openGlibc(t)) },
			MayAllocate: true, StatsAllocated: true,
		}},
		{"Checked/glibc/poison", nalloctest.Config{
			New: func(t testing.TB) nalloc.Allocator {
				return nalloc.NewChecked(openGlibc(t), nalloc.WithPoisonFreed(), nalloc.WithPoisonFresh())
			},
			MayAllocate: true, StatsAllocated: true,
		}},
		{"Checked/bump", nalloctest.Config{
			New:         func(testing.TB) nalloc.Allocator { return nalloc.NewChecked(bump.New()) },
			MayAllocate: true, NotConcurrent: true, StatsAllocated: true,
		}},
		{"Counting/glibc", nalloctest.Config{
			New:         func(t testing.TB) nalloc.Allocator { return nalloc.NewCounting(openGlibc(t)) },
			MayAllocate: glibcAllocates, StatsAllocated: true,
		}},
		{"Counting/go", nalloctest.Config{
			New:         func(testing.TB) nalloc.Allocator { return nalloc.NewCounting(nalloc.NewGoHeap()) },
			MayAllocate: true, StatsAllocated: true,
		}},
		{"Verbose/glibc", nalloctest.Config{
			New:         func(t testing.TB) nalloc.Allocator { return nalloc.NewVerbose(openGlibc(t), io.Discard) },
			MayAllocate: glibcAllocates, StatsAllocated: true,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { nalloctest.Run(t, tc.cfg) })
	}
}

// spy records which pointers reach the underlying allocator's Deallocate,
// Grow and Shrink.
type spy struct {
	nalloc.Allocator
	mu      sync.Mutex
	touched map[unsafe.Pointer]int
}

func newSpy(a nalloc.Allocator) *spy { return &spy{Allocator: a, touched: map[unsafe.Pointer]int{}} }

func (s *spy) note(p unsafe.Pointer) {
	s.mu.Lock()
	s.touched[p]++
	s.mu.Unlock()
}

func (s *spy) Deallocate(p unsafe.Pointer, l nalloc.Layout) { s.note(p); s.Allocator.Deallocate(p, l) }

func (s *spy) Grow(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	s.note(p)
	return s.Allocator.Grow(p, old, new)
}

func (s *spy) Shrink(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	s.note(p)
	return s.Allocator.Shrink(p, old, new)
}

// TestCheckedCatchesMisuse seeds each kind of misuse over glibc, where
// any of them passed on would corrupt the heap or abort the process
// ("free(): double free detected"), and checks that Checked reports it
// with both stacks and never passes it on.
func TestCheckedCatchesMisuse(t *testing.T) {
	l := nalloc.Layout{Size: 64, Align: 8}
	var x [64]byte
	foreign := unsafe.Pointer(&x)
	for _, tc := range []struct {
		name   string
		misuse func(c *nalloc.Checked, p unsafe.Pointer) (bad unsafe.Pointer, err error)
		want   error
		freed  bool // the block was given back before the misuse
	}{
		{"double free", func(c *nalloc.Checked, p unsafe.Pointer) (unsafe.Pointer, error) {
			c.Deallocate(p, l)
			c.Deallocate(p, l)
			return p, nil
		}, nalloc.ErrDoubleFree, true},
		{"grow after free", func(c *nalloc.Checked, p unsafe.Pointer) (unsafe.Pointer, error) {
			c.Deallocate(p, l)
			return p, growErr(c.Grow(p, l, nalloc.Layout{Size: 128, Align: 8}))
		}, nalloc.ErrDoubleFree, true},
		{"free after move", func(c *nalloc.Checked, p unsafe.Pointer) (unsafe.Pointer, error) {
			// 1 MiB at 4 KiB alignment cannot fit a 64-byte block's
			// chunk, so the block must move.
			big := nalloc.Layout{Size: 1 << 20, Align: 4096}
			q, err := c.Grow(p, l, big)
			if err != nil || q == p {
				return p, fmt.Errorf("Grow to %v = %p, %v: the block did not move", big, q, err)
			}
			c.Deallocate(p, l)
			c.Deallocate(q, big)
			return p, nil
		}, nalloc.ErrDoubleFree, true},
		{"unknown pointer", func(c *nalloc.Checked, p unsafe.Pointer) (unsafe.Pointer, error) {
			c.Deallocate(foreign, l)
			c.Deallocate(p, l)
			return foreign, nil
		}, nalloc.ErrUnknownPointer, false},
		{"interior pointer", func(c *nalloc.Checked, p unsafe.Pointer) (unsafe.Pointer, error) {
			c.Deallocate(unsafe.Add(p, 8), l)
			c.Deallocate(p, l)
			return unsafe.Add(p, 8), nil
		}, nalloc.ErrUnknownPointer, false},
		{"wrong size", func(c *nalloc.Checked, p unsafe.Pointer) (unsafe.Pointer, error) {
			c.Deallocate(p, nalloc.Layout{Size: 32, Align: 8})
			c.Deallocate(p, l)
			return p, nil
		}, nalloc.ErrLayoutMismatch, false},
		{"wrong align", func(c *nalloc.Checked, p unsafe.Pointer) (unsafe.Pointer, error) {
			c.Deallocate(p, nalloc.Layout{Size: 64, Align: 16})
			c.Deallocate(p, l)
			return p, nil
		}, nalloc.ErrLayoutMismatch, false},
		{"size zero for a sized block", func(c *nalloc.Checked, p unsafe.Pointer) (unsafe.Pointer, error) {
			c.Deallocate(p, nalloc.Layout{Size: 0, Align: 8})
			c.Deallocate(p, l)
			return p, nil
		}, nalloc.ErrLayoutMismatch, false},
		{"shrink with the wrong old layout", func(c *nalloc.Checked, p unsafe.Pointer) (unsafe.Pointer, error) {
			_, err := c.Shrink(p, nalloc.Layout{Size: 100, Align: 8}, nalloc.Layout{Size: 10, Align: 8})
			c.Deallocate(p, l)
			return p, err
		}, nalloc.ErrLayoutMismatch, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSpy(openGlibc(t))
			c := nalloc.NewChecked(s)
			p, err := c.Allocate(l)
			if err != nil {
				t.Fatal(err)
			}
			bad, callErr := tc.misuse(c, p)
			if callErr != nil && !errors.Is(callErr, tc.want) {
				t.Errorf("the refused call returned %v, want an error wrapping %v", callErr, tc.want)
			}
			err = c.Err()
			if !errors.Is(err, tc.want) {
				t.Fatalf("Err() = %v, want one wrapping %v", err, tc.want)
			}
			var m *nalloc.MisuseError
			if !errors.As(err, &m) || m.Addr != uintptr(bad) {
				t.Fatalf("Err() = %v, want a *MisuseError for %p", err, bad)
			}
			// The stack of the bad call, and of the allocation where
			// the block is known, name this test.
			if !strings.Contains(m.Stack, "TestCheckedCatchesMisuse") {
				t.Errorf("the misuse's stack does not name the test:\n%s", m.Stack)
			}
			if tc.want != nalloc.ErrUnknownPointer && !strings.Contains(m.AllocStack, "TestCheckedCatchesMisuse") {
				t.Errorf("the allocation's stack does not name the test:\n%s", m.AllocStack)
			}
			if tc.freed && !strings.Contains(m.FreeStack, "TestCheckedCatchesMisuse") {
				t.Errorf("the first free's stack does not name the test:\n%s", m.FreeStack)
			}
			for _, part := range []string{"called at:", "wrappers_test.go:"} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("Err() text lacks %q:\n%v", part, err)
				}
			}
			// Each pointer reached the underlying allocator at most
			// once (its one legitimate free or move); the bad one not
			// at all unless it is p itself.
			if n := s.touched[bad]; bad != p && n != 0 {
				t.Errorf("the bad pointer %p reached the allocator %d times", bad, n)
			}
			if n := s.touched[p]; n > 1 {
				t.Errorf("%p reached the allocator's free/resize %d times, want at most 1", p, n)
			}
			if leaks := c.Leaks(); len(leaks) != 0 {
				t.Errorf("Leaks() = %v, want none", leaks)
			}
		})
	}
}

func growErr(_ unsafe.Pointer, err error) error { return err }

func TestCheckedLeaks(t *testing.T) {
	c := nalloc.NewChecked(openGlibc(t))
	small := nalloc.Layout{Size: 24, Align: 8}
	big := nalloc.Layout{Size: 5000, Align: 64}
	p, _ := c.Allocate(small)
	q, _ := c.Allocate(big)
	r, _ := c.Allocate(small)
	c.Deallocate(r, small)
	leaks := c.Leaks()
	if len(leaks) != 2 || leaks[0].Addr != uintptr(p) || leaks[0].Size != 24 || leaks[1].Size != 5000 ||
		leaks[1].Align != 64 {
		t.Fatalf("Leaks() = %v, want the 24- and 5000-byte blocks, oldest first", leaks)
	}
	for _, l := range leaks {
		if !strings.Contains(l.Stack, "TestCheckedLeaks") || !strings.Contains(l.Stack, "wrappers_test.go:") {
			t.Errorf("leak stack does not name the allocating test and line:\n%s", l.Stack)
		}
	}
	if c.Err() != nil {
		t.Errorf("Err() = %v, want nil: a leak is not a misuse", c.Err())
	}
	c.Deallocate(p, small)
	c.Deallocate(q, big)
	if leaks := c.Leaks(); len(leaks) != 0 {
		t.Errorf("Leaks() after freeing everything = %v", leaks)
	}
}

// TestCheckedFreedMemoryIsBounded checks the freed-block memory: a double
// free within it is one, an older one reads as an unknown pointer that
// says why, and reuse of an address by a new block makes it live again.
func TestCheckedFreedMemoryIsBounded(t *testing.T) {
	a := bump.New()
	c := nalloc.NewChecked(a, nalloc.WithFreedMemory(2))
	l := nalloc.Layout{Size: 16, Align: 8}
	var ps [4]unsafe.Pointer
	for i := range ps {
		ps[i], _ = c.Allocate(l)
	}
	for i := range 3 {
		c.Deallocate(ps[i], l)
	}
	c.Deallocate(ps[2], l) // remembered
	c.Deallocate(ps[0], l) // forgotten: 2 frees since
	var kinds []error
	for _, err := range c.Err().(interface{ Unwrap() []error }).Unwrap() {
		var m *nalloc.MisuseError
		errors.As(err, &m)
		kinds = append(kinds, m.Err)
	}
	if len(kinds) != 2 || kinds[0] != nalloc.ErrDoubleFree || kinds[1] != nalloc.ErrUnknownPointer {
		t.Fatalf("misuses = %v, want a double free then an unknown pointer", kinds)
	}
	if !strings.Contains(c.Err().Error(), "nor one of the last 2 freed") {
		t.Errorf("the unknown pointer's error does not explain the bound:\n%v", c.Err())
	}
	// The arena gives ps[3]'s space back and hands the address out again.
	c.Deallocate(ps[3], l)
	again, _ := c.Allocate(l)
	if again != ps[3] {
		t.Fatalf("the arena did not reuse %p (got %p)", ps[3], again)
	}
	c.Deallocate(again, l)
	if n := len(c.Err().(interface{ Unwrap() []error }).Unwrap()); n != 2 {
		t.Errorf("freeing a reused address was reported as a misuse: %v", c.Err())
	}
}

// TestCheckedZeroSizeBlocks: a bump arena gives zero-size blocks, and a
// sized block after them, the same address; none of that is a misuse.
func TestCheckedZeroSizeBlocks(t *testing.T) {
	c := nalloc.NewChecked(bump.New())
	z := nalloc.Layout{Size: 0, Align: 8}
	l := nalloc.Layout{Size: 8, Align: 8}
	p1, _ := c.Allocate(z)
	p2, _ := c.Allocate(z)
	q, _ := c.Allocate(l)
	if p1 != p2 || p2 != q {
		t.Logf("addresses %p %p %p (the test wants them equal to mean much)", p1, p2, q)
	}
	if n := len(c.Leaks()); n != 3 {
		t.Errorf("Leaks() has %d blocks, want 3", n)
	}
	c.Deallocate(q, l)
	c.Deallocate(p1, z)
	c.Deallocate(p2, z)
	if err := c.Err(); err != nil {
		t.Fatalf("Err() = %v", err)
	}
	c.Deallocate(p1, z)
	if !errors.Is(c.Err(), nalloc.ErrDoubleFree) {
		t.Errorf("a third free of two zero-size blocks: Err() = %v, want ErrDoubleFree", c.Err())
	}
}

func TestCheckedPoison(t *testing.T) {
	a := bump.New() // keeps freed memory readable: it only reclaims on Reset
	c := nalloc.NewChecked(a, nalloc.WithPoisonFresh(), nalloc.WithPoisonFreed())
	l := nalloc.Layout{Size: 32, Align: 8}
	p, _ := c.Allocate(l)
	if b := unsafe.Slice((*byte)(p), 32); b[0] != 0xa5 || b[31] != 0xa5 {
		t.Errorf("fresh block = % x, want 0xa5", b)
	}
	z, _ := c.AllocateZeroed(l)
	if b := unsafe.Slice((*byte)(z), 32); b[0] != 0 || b[31] != 0 {
		t.Errorf("AllocateZeroed block = % x, want zeros", b)
	}
	q, err := c.Grow(p, l, nalloc.Layout{Size: 64, Align: 8})
	if err != nil || q == p {
		t.Fatalf("Grow with poisoned frees = %p, %v; want a new block", q, err)
	}
	if b := unsafe.Slice((*byte)(p), 32); b[0] != 0x5a || b[31] != 0x5a {
		t.Errorf("the block Grow left = % x, want 0x5a", b)
	}
	if b := unsafe.Slice((*byte)(q), 64); b[0] != 0xa5 || b[63] != 0xa5 {
		t.Errorf("grown block = % x, want its old bytes and 0xa5 after", b)
	}
	c.Deallocate(z, l)
	if b := unsafe.Slice((*byte)(z), 32); b[0] != 0x5a || b[31] != 0x5a {
		t.Errorf("freed block = % x, want 0x5a", b)
	}
}

func TestCheckedNoStacks(t *testing.T) {
	c := nalloc.NewChecked(openGlibc(t), nalloc.WithStackDepth(0))
	l := nalloc.Layout{Size: 8, Align: 8}
	p, _ := c.Allocate(l)
	c.Deallocate(p, l)
	c.Deallocate(p, l)
	var m *nalloc.MisuseError
	if !errors.As(c.Err(), &m) || m.Err != nalloc.ErrDoubleFree || m.Stack != "" {
		t.Fatalf("Err() = %#v, want a double free without stacks", m)
	}
}

// TestCheckedSteadyStateAllocs: stacks are interned, so once a call site
// has been seen and the maps have grown, Checked allocates nothing.
func TestCheckedSteadyStateAllocs(t *testing.T) {
	if glibcAllocates {
		t.Skip("glibc allocates on the purego path")
	}
	c := nalloc.NewChecked(openGlibc(t))
	l := nalloc.Layout{Size: 64, Align: 8}
	n := testing.AllocsPerRun(1000, func() {
		p, _ := c.Allocate(l)
		c.Deallocate(p, l)
	})
	if n != 0 {
		t.Errorf("Checked Allocate+Deallocate made %v Go allocations, want 0", n)
	}
}

func TestCounting(t *testing.T) {
	c := nalloc.NewCounting(openGlibc(t))
	l := nalloc.Layout{Size: 100, Align: 8}
	p, _ := c.Allocate(l)
	q, _ := c.AllocateZeroed(l)
	p, _ = c.Grow(p, l, nalloc.Layout{Size: 1000, Align: 8})
	c.Deallocate(q, l)
	p, _ = c.Shrink(p, nalloc.Layout{Size: 1000, Align: 8}, nalloc.Layout{Size: 10, Align: 8})
	c.Allocate(nalloc.Layout{Size: 1 << 62, Align: 8})
	c.Deallocate(nil, l)
	got := c.Counts()
	want := nalloc.Counts{Allocations: 2, Deallocations: 1, Resizes: 2, Failures: 1,
		BytesAllocated: 1100, LiveBytes: 10, PeakLiveBytes: 1100}
	if got != want {
		t.Errorf("Snapshot() = %+v\nwant         %+v", got, want)
	}
	c.Deallocate(p, nalloc.Layout{Size: 10, Align: 8})
	if s := c.Counts(); s.LiveBytes != 0 || s.PeakLiveBytes != 1100 {
		t.Errorf("after freeing everything: %+v", s)
	}
}

func TestCountingConcurrentPeak(t *testing.T) {
	c := nalloc.NewCounting(openGlibc(t))
	l := nalloc.Layout{Size: 1000, Align: 8}
	var wg sync.WaitGroup
	var mu sync.Mutex
	hold := make(chan struct{})
	var ps []unsafe.Pointer
	for range 8 {
		wg.Go(func() {
			p, _ := c.Allocate(l)
			mu.Lock()
			ps = append(ps, p)
			mu.Unlock()
			<-hold
		})
	}
	for c.Counts().Allocations < 8 {
	}
	close(hold)
	wg.Wait()
	for _, p := range ps {
		c.Deallocate(p, l)
	}
	if s := c.Counts(); s.PeakLiveBytes != 8000 || s.LiveBytes != 0 {
		t.Errorf("Snapshot() = %+v, want a peak of 8000 and nothing live", s)
	}
}

func TestVerbose(t *testing.T) {
	var buf bytes.Buffer
	v := nalloc.NewVerbose(bump.New(), &buf)
	l := nalloc.Layout{Size: 64, Align: 8}
	p, _ := v.Allocate(l)
	q, _ := v.Grow(p, l, nalloc.Layout{Size: 128, Align: 16})
	q, _ = v.Shrink(q, nalloc.Layout{Size: 128, Align: 16}, l)
	z, _ := nalloc.AllocateZeroed(v, l)
	v.Deallocate(z, l)
	v.Allocate(nalloc.Layout{Size: 8, Align: 3})
	v.Deallocate(q, l)
	ptr := `0x[0-9a-f]+`
	want := []string{
		`Allocate\(size=64 align=8\) = ` + ptr,
		`Grow\(` + ptr + `, size=64 align=8 -> size=128 align=16\) = ` + ptr,
		`Shrink\(` + ptr + `, size=128 align=16 -> size=64 align=8\) = ` + ptr,
		`AllocateZeroed\(size=64 align=8\) = ` + ptr,
		`Deallocate\(` + ptr + `, size=64 align=8\)`,
		`Allocate\(size=8 align=3\) = error: nalloc: invalid layout: .*`,
		`Deallocate\(` + ptr + `, size=64 align=8\)`,
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, re := range want {
		if !regexp.MustCompile("^" + re + "$").MatchString(lines[i]) {
			t.Errorf("line %d = %q, want %s", i, lines[i], re)
		}
	}
	if !strings.Contains(lines[0], fmt.Sprintf("%p", p)) {
		t.Errorf("line 0 %q does not show the pointer %p", lines[0], p)
	}
}

// TestVerboseWholeLines logs from many goroutines at once, each line
// written through a writer that would split it if two Writes raced.
func TestVerboseWholeLines(t *testing.T) {
	var buf bytes.Buffer
	v := nalloc.NewVerbose(openGlibc(t), &buf)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range 200 {
				l := nalloc.Layout{Size: uintptr(i), Align: 8}
				p, _ := v.Allocate(l)
				v.Deallocate(p, l)
			}
		})
	}
	wg.Wait()
	line := regexp.MustCompile(`^(Allocate\(size=\d+ align=8\) = 0x[0-9a-f]+|Deallocate\(0x[0-9a-f]+, size=\d+ align=8\))$`)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 8*200*2 {
		t.Fatalf("%d lines, want %d", len(lines), 8*200*2)
	}
	for _, l := range lines {
		if !line.MatchString(l) {
			t.Fatalf("mangled line %q", l)
		}
	}
}

func ExampleNewChecked() {
	c := nalloc.NewChecked(nalloc.NewGoHeap())
	l := nalloc.Layout{Size: 64, Align: 8}
	p, _ := c.Allocate(l)
	c.Deallocate(p, l)
	c.Deallocate(p, l) // a double free: reported, not passed on

	q, _ := c.Allocate(nalloc.Layout{Size: 32, Align: 8})
	c.Deallocate(q, nalloc.Layout{Size: 16, Align: 8}) // wrong Layout: reported, q stays live

	err := c.Err()
	fmt.Println(errors.Is(err, nalloc.ErrDoubleFree), errors.Is(err, nalloc.ErrLayoutMismatch))
	for _, leak := range c.Leaks() {
		fmt.Println("leaked:", leak.Size, "bytes, allocated in", strings.Contains(leak.Stack, "ExampleNewChecked"))
	}
	// Output:
	// true true
	// leaked: 32 bytes, allocated in true
}

func ExampleNewCounting() {
	c := nalloc.NewCounting(nalloc.NewGoHeap())
	l := nalloc.Layout{Size: 1000, Align: 8}
	p, _ := c.Allocate(l)
	q, _ := c.Allocate(l)
	c.Deallocate(p, l)
	c.Deallocate(q, l)
	s := c.Counts()
	fmt.Println(s.Allocations, s.BytesAllocated, s.LiveBytes, s.PeakLiveBytes)
	// Output: 2 2000 0 2000
}

func ExampleNewVerbose() {
	var log strings.Builder
	v := nalloc.NewVerbose(nalloc.NewGoHeap(), &log)
	v.Allocate(nalloc.Layout{Size: 8, Align: 3})
	v.Deallocate(nil, nalloc.Layout{Size: 8, Align: 8})
	fmt.Print(log.String())
	// Output:
	// Allocate(size=8 align=3) = error: nalloc: invalid layout: Layout{Size: 8, Align: 3}: Align 3 is not a power of two
	// Deallocate(nil, size=8 align=8)
}

// pausingFree is an Allocator whose Deallocate, once armed, stops right
// after the block was really given back, until resumed: the moment at
// which another goroutine may get the same memory.
type pausingFree struct {
	nalloc.Allocator
	armed         bool
	freed, resume chan struct{}
}

func newPausingFree(a nalloc.Allocator) *pausingFree {
	return &pausingFree{Allocator: a, freed: make(chan struct{}), resume: make(chan struct{})}
}

func (s *pausingFree) Deallocate(p unsafe.Pointer, l nalloc.Layout) {
	s.Allocator.Deallocate(p, l)
	if s.armed {
		s.freed <- struct{}{}
		<-s.resume
	}
}

// freeRacingAllocate frees p on another goroutine and, while that free is
// paused just after the block went back, allocates l through a.
func freeRacingAllocate(a nalloc.Allocator, u *pausingFree, p unsafe.Pointer, l nalloc.Layout) unsafe.Pointer {
	u.armed = true
	var wg sync.WaitGroup
	wg.Go(func() { a.Deallocate(p, l) })
	<-u.freed
	q, _ := a.Allocate(l)
	u.resume <- struct{}{}
	wg.Wait()
	u.armed = false
	return q
}

// A block freed on one goroutine and allocated on another right after must
// not be counted live twice: the peak stays at one block.
func TestCountingPeakNotOverstated(t *testing.T) {
	u := newPausingFree(nalloc.NewGoHeap())
	c := nalloc.NewCounting(u)
	l := nalloc.Layout{Size: 1 << 20, Align: 8}
	p, _ := c.Allocate(l)
	q := freeRacingAllocate(c, u, p, l)
	c.Deallocate(q, l)
	if s := c.Counts(); s.PeakLiveBytes != int64(l.Size) || s.LiveBytes != 0 {
		t.Fatalf("one 1 MiB block live at a time, yet PeakLiveBytes = %d, LiveBytes = %d", s.PeakLiveBytes, s.LiveBytes)
	}
}

// The free of a block is logged before the allocation that reuses its
// address on another goroutine.
func TestVerboseLogsFreeBeforeReuse(t *testing.T) {
	g, err := glibc.Open()
	if err != nil {
		t.Fatal(err)
	}
	u := newPausingFree(g)
	var buf bytes.Buffer
	v := nalloc.NewVerbose(u, &buf)
	l := nalloc.Layout{Size: 64, Align: 8}
	p, _ := v.Allocate(l)
	q := freeRacingAllocate(v, u, p, l)
	v.Deallocate(q, l)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[1], "Deallocate(") || !strings.HasPrefix(lines[2], "Allocate(") {
		t.Fatalf("want Allocate, Deallocate, Allocate, Deallocate in that order:\n%s", buf.String())
	}
}
