// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bump"
	"github.com/nalloc/nalloc/nalloctest"
)

func TestProfiledConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  nalloctest.Config
	}{
		// At the default rate, the sampled path allocates nothing either
		// once its stack and size have been seen.
		{"glibc", nalloctest.Config{
			New:         func(t testing.TB) nalloc.Allocator { return nalloc.NewProfiled(openGlibc(t)) },
			MayAllocate: glibcAllocates,
		}},
		{"glibc/rate1", nalloctest.Config{
			New: func(t testing.TB) nalloc.Allocator {
				return nalloc.NewProfiled(openGlibc(t), nalloc.ProfileRate(1))
			},
			MayAllocate: true,
		}},
		{"bump/rate1", nalloctest.Config{
			New: func(testing.TB) nalloc.Allocator {
				return nalloc.NewProfiled(bump.New(), nalloc.ProfileRate(1))
			},
			MayAllocate: true, NotConcurrent: true,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { nalloctest.Run(t, tc.cfg) })
	}
}

// The known call sites of the tests: each allocates, grows or shrinks
// through p, and is the leaf of the stacks it is sampled at.

//go:noinline
func profAllocA(t testing.TB, p nalloc.Allocator, l nalloc.Layout) unsafe.Pointer {
	ptr, err := p.Allocate(l)
	if err != nil {
		t.Fatal(err)
	}
	return ptr
}

//go:noinline
func profAllocB(t testing.TB, p nalloc.Allocator, l nalloc.Layout) unsafe.Pointer {
	ptr, err := nalloc.AllocateZeroed(p, l)
	if err != nil {
		t.Fatal(err)
	}
	return ptr
}

//go:noinline
func profGrow(t testing.TB, p nalloc.Allocator, ptr unsafe.Pointer, old, new nalloc.Layout) unsafe.Pointer {
	q, err := p.Grow(ptr, old, new)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

//go:noinline
func profShrink(t testing.TB, p nalloc.Allocator, ptr unsafe.Pointer, old, new nalloc.Layout) unsafe.Pointer {
	q, err := p.Shrink(ptr, old, new)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// figures are the four values of a heap profile: alloc_objects,
// alloc_space, inuse_objects, inuse_space.
type figures [4]int64

// TestProfiledExact: at rate 1 the profile's figures per allocating
// function are exactly what was allocated and freed there, and frees,
// Grow and Shrink move them.
func TestProfiledExact(t *testing.T) {
	p := nalloc.NewProfiled(openGlibc(t), nalloc.ProfileRate(1))
	la := nalloc.Layout{Size: 100, Align: 8}
	lb := nalloc.Layout{Size: 3000, Align: 64}
	var as, bs []unsafe.Pointer
	for range 10 {
		as = append(as, profAllocA(t, p, la))
	}
	for range 5 {
		bs = append(bs, profAllocB(t, p, lb))
	}
	for _, ptr := range as[:4] {
		p.Deallocate(ptr, la)
	}
	want := map[string]figures{
		"profAllocA": {10, 1000, 6, 600},
		"profAllocB": {5, 15000, 5, 15000},
	}
	checkFigures(t, "after the frees", p, want)

	// Grow one of B's: it leaves B's in-use figures for profGrow's.
	lg := nalloc.Layout{Size: 50000, Align: 64}
	g := profGrow(t, p, bs[0], lb, lg)
	want["profAllocB"] = figures{5, 15000, 4, 12000}
	want["profGrow"] = figures{1, 50000, 1, 50000}
	checkFigures(t, "after Grow", p, want)

	ls := nalloc.Layout{Size: 1000, Align: 64}
	s := profShrink(t, p, g, lg, ls)
	want["profGrow"] = figures{1, 50000, 0, 0}
	want["profShrink"] = figures{1, 1000, 1, 1000}
	checkFigures(t, "after Shrink", p, want)

	p.Deallocate(s, ls)
	for _, ptr := range as[4:] {
		p.Deallocate(ptr, la)
	}
	for _, ptr := range bs[1:] {
		p.Deallocate(ptr, lb)
	}
	want = map[string]figures{
		"profAllocA": {10, 1000, 0, 0},
		"profAllocB": {5, 15000, 0, 0},
		"profGrow":   {1, 50000, 0, 0},
		"profShrink": {1, 1000, 0, 0},
	}
	checkFigures(t, "after freeing everything", p, want)
}

// TestProfiledFailedGrowKeepsSample: a Grow that fails leaves the block,
// and its sample, as they were.
func TestProfiledFailedGrowKeepsSample(t *testing.T) {
	p := nalloc.NewProfiled(openGlibc(t), nalloc.ProfileRate(1))
	l := nalloc.Layout{Size: 128, Align: 8}
	ptr := profAllocA(t, p, l)
	if _, err := p.Grow(ptr, l, nalloc.Layout{Size: 1 << 62, Align: 8}); err == nil {
		t.Fatal("Grow to 2^62 bytes succeeded")
	}
	checkFigures(t, "after the failed Grow", p, map[string]figures{"profAllocA": {1, 128, 1, 128}})
	p.Deallocate(ptr, l)
	checkFigures(t, "after Deallocate", p, map[string]figures{"profAllocA": {1, 128, 0, 0}})
}

// TestProfiledRateOff: ProfileRate(0) samples nothing, as
// runtime.MemProfileRate = 0 does, and the profile is still valid.
func TestProfiledRateOff(t *testing.T) {
	p := nalloc.NewProfiled(openGlibc(t), nalloc.ProfileRate(0))
	l := nalloc.Layout{Size: 1 << 20, Align: 8}
	ptr := profAllocA(t, p, l)
	defer p.Deallocate(ptr, l)
	prof := writeProfile(t, p)
	if len(prof.samples) != 0 || prof.period != 0 {
		t.Errorf("rate 0: %d samples, period %d; want none and 0", len(prof.samples), prof.period)
	}
}

// TestProfiledZeroSize: zero-size blocks are never sampled, and a
// zero-size block at the address of a sampled one (as a bump arena
// gives) leaves that sample alone.
func TestProfiledZeroSize(t *testing.T) {
	p := nalloc.NewProfiled(bump.New(), nalloc.ProfileRate(1))
	l := nalloc.Layout{Size: 64, Align: 64}
	z := nalloc.Layout{Size: 0, Align: 64}
	zp := profAllocB(t, p, z)
	ptr := profAllocA(t, p, l)
	if zp != ptr {
		t.Logf("the zero-size block is at %p, the sized one at %p", zp, ptr)
	}
	p.Deallocate(zp, z)
	checkFigures(t, "after freeing the zero-size block", p, map[string]figures{"profAllocA": {1, 64, 1, 64}})
}

// TestProfiledConcurrent runs sampled and unsampled calls on several
// goroutines (under -race, it checks the lock-free lookup), then checks
// that every sample is accounted for once all is freed.
func TestProfiledConcurrent(t *testing.T) {
	for _, rate := range []int{1, 4096} {
		t.Run(fmt.Sprint("rate=", rate), func(t *testing.T) {
			p := nalloc.NewProfiled(openGlibc(t), nalloc.ProfileRate(rate))
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Go(func() {
					var live []unsafe.Pointer
					l := nalloc.Layout{Size: uintptr(64 * (g + 1)), Align: 8}
					for i := range 2000 {
						live = append(live, profAllocA(t, p, l))
						if i%3 == 0 {
							big := nalloc.Layout{Size: l.Size * 4, Align: 8}
							live[len(live)-1] = profGrow(t, p, live[len(live)-1], l, big)
							live[len(live)-1] = profShrink(t, p, live[len(live)-1], big, l)
						}
						if len(live) > 100 {
							for _, ptr := range live {
								p.Deallocate(ptr, l)
							}
							live = live[:0]
						}
					}
					for _, ptr := range live {
						p.Deallocate(ptr, l)
					}
				})
			}
			var writes sync.WaitGroup
			writes.Go(func() {
				for range 5 {
					writeProfile(t, p)
				}
			})
			wg.Wait()
			writes.Wait()
			prof := writeProfile(t, p)
			var allocs int64
			for fn, f := range prof.byFunction() {
				if f[2] != 0 || f[3] != 0 {
					t.Errorf("%s: in use %d objects, %d bytes after every block was freed", fn, f[2], f[3])
				}
				allocs += f[0]
			}
			if allocs == 0 {
				t.Error("no allocation sampled")
			}
			if rate == 1 && allocs != 8*(2000+2*667) {
				t.Errorf("rate 1: %d allocations in the profile, want %d", allocs, 8*(2000+2*667))
			}
		})
	}
}

// TestProfiledNoAllocs: an Allocate+Deallocate pair at the default rate
// makes no Go heap allocation, with samples live in the table.
func TestProfiledNoAllocs(t *testing.T) {
	if glibcAllocates {
		t.Skip("glibc's calls allocate on this call path")
	}
	p := nalloc.NewProfiled(openGlibc(t))
	big := nalloc.Layout{Size: 4 << 20, Align: 8}
	held := profAllocA(t, p, big) // sampled: 4 MiB at 512 KiB is 1-e^-8
	defer p.Deallocate(held, big)
	l := nalloc.Layout{Size: 64, Align: 8}
	if n := testing.AllocsPerRun(10000, func() {
		ptr, _ := p.Allocate(l)
		p.Deallocate(ptr, l)
	}); n != 0 {
		t.Errorf("%v allocations per pair, want 0", n)
	}
}

func TestProfiledUnwrap(t *testing.T) {
	g := openGlibc(t)
	if got := nalloc.NewProfiled(g).Unwrap(); got != nalloc.Allocator(g) {
		t.Errorf("Unwrap = %v, want the glibc allocator", got)
	}
}

// checkFigures checks the figures of p's profile per leaf function
// against want, which names every function that must have a sample.
func checkFigures(t *testing.T, when string, p *nalloc.Profiled, want map[string]figures) {
	t.Helper()
	got := writeProfile(t, p).byFunction()
	for fn, w := range want {
		if got[fn] != w {
			t.Errorf("%s: %s: %v, want %v (alloc_objects, alloc_space, inuse_objects, inuse_space)", when, fn, got[fn], w)
		}
	}
	for fn, g := range got {
		if _, ok := want[fn]; !ok {
			t.Errorf("%s: unexpected samples at %s: %v", when, fn, g)
		}
	}
}

// The profile, decoded: enough of profile.proto to check what
// WriteHeapProfile writes without a dependency (the module
// github.com/nalloc/nalloc/pproftest parses it with google/pprof).
type decoded struct {
	strings     []string
	sampleTypes [][2]int64 // type, unit
	periodType  [2]int64
	period      int64
	samples     []decodedSample
	locations   map[uint64][]uint64 // id -> function ids, inlined first
	functions   map[uint64]int64    // id -> name
}

type decodedSample struct {
	locs   []uint64
	values []int64
	labels [][2]int64 // key, num
}

func writeProfile(t testing.TB, p *nalloc.Profiled) *decoded {
	t.Helper()
	var buf bytes.Buffer
	if err := p.WriteHeapProfile(&buf); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	d := &decoded{locations: map[uint64][]uint64{}, functions: map[uint64]int64{}}
	if err := d.profile(raw); err != nil {
		t.Fatalf("decoding the profile: %v", err)
	}
	types := make([]string, len(d.sampleTypes))
	for i, st := range d.sampleTypes {
		types[i] = d.strings[st[0]] + "/" + d.strings[st[1]]
	}
	if got, want := strings.Join(types, " "), "alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes"; got != want {
		t.Errorf("sample types %q, want %q", got, want)
	}
	if got := d.strings[d.periodType[0]] + "/" + d.strings[d.periodType[1]]; got != "space/bytes" {
		t.Errorf("period type %q, want space/bytes", got)
	}
	return d
}

// byFunction sums the values of the samples by the function of their
// leaf frame (the caller of the Profiled method).
func (d *decoded) byFunction() map[string]figures {
	m := map[string]figures{}
	for _, s := range d.samples {
		if len(s.locs) == 0 || len(s.values) != 4 {
			continue
		}
		fns := d.locations[s.locs[0]]
		name := d.strings[d.functions[fns[0]]]
		name = name[strings.LastIndex(name, ".")+1:]
		f := m[name]
		for i, v := range s.values {
			f[i] += v
		}
		m[name] = f
	}
	return m
}

func (d *decoded) profile(b []byte) error {
	return fields(b, func(field int, v uint64, sub []byte) error {
		switch field {
		case 1, 11:
			var vt [2]int64
			if err := fields(sub, func(f int, v uint64, _ []byte) error {
				if f == 1 || f == 2 {
					vt[f-1] = int64(v)
				}
				return nil
			}); err != nil {
				return err
			}
			if field == 1 {
				d.sampleTypes = append(d.sampleTypes, vt)
			} else {
				d.periodType = vt
			}
		case 2:
			var s decodedSample
			if err := fields(sub, func(f int, v uint64, sub []byte) error {
				switch f {
				case 1, 2:
					xs, err := packed(sub)
					for _, x := range xs {
						if f == 1 {
							s.locs = append(s.locs, x)
						} else {
							s.values = append(s.values, int64(x))
						}
					}
					return err
				case 3:
					var l [2]int64
					err := fields(sub, func(f int, v uint64, _ []byte) error {
						if f == 1 {
							l[0] = int64(v)
						} else if f == 3 {
							l[1] = int64(v)
						}
						return nil
					})
					s.labels = append(s.labels, l)
					return err
				}
				return nil
			}); err != nil {
				return err
			}
			d.samples = append(d.samples, s)
		case 4:
			var id uint64
			var fns []uint64
			if err := fields(sub, func(f int, v uint64, sub []byte) error {
				switch f {
				case 1:
					id = v
				case 4:
					return fields(sub, func(f int, v uint64, _ []byte) error {
						if f == 1 {
							fns = append(fns, v)
						}
						return nil
					})
				}
				return nil
			}); err != nil {
				return err
			}
			d.locations[id] = fns
		case 5:
			var id uint64
			var name int64
			if err := fields(sub, func(f int, v uint64, _ []byte) error {
				switch f {
				case 1:
					id = v
				case 2:
					name = int64(v)
				}
				return nil
			}); err != nil {
				return err
			}
			d.functions[id] = name
		case 6:
			d.strings = append(d.strings, string(sub))
		case 12:
			d.period = int64(v)
		}
		return nil
	})
}

// fields calls f for each field of the protobuf message b: its number
// and its varint value, or its bytes.
func fields(b []byte, f func(field int, v uint64, sub []byte) error) error {
	for len(b) > 0 {
		key, n := uvarint(b)
		if n == 0 {
			return fmt.Errorf("bad key varint")
		}
		b = b[n:]
		var v uint64
		var sub []byte
		switch key & 7 {
		case 0:
			v, n = uvarint(b)
			if n == 0 {
				return fmt.Errorf("bad varint in field %d", key>>3)
			}
			b = b[n:]
		case 2:
			l, n := uvarint(b)
			if n == 0 || uint64(len(b)-n) < l {
				return fmt.Errorf("bad length in field %d", key>>3)
			}
			sub, b = b[n:n+int(l)], b[n+int(l):]
		default:
			return fmt.Errorf("wire type %d in field %d", key&7, key>>3)
		}
		if err := f(int(key>>3), v, sub); err != nil {
			return err
		}
	}
	return nil
}

func packed(b []byte) ([]uint64, error) {
	var xs []uint64
	for len(b) > 0 {
		x, n := uvarint(b)
		if n == 0 {
			return nil, fmt.Errorf("bad packed varint")
		}
		xs, b = append(xs, x), b[n:]
	}
	return xs, nil
}

func uvarint(b []byte) (uint64, int) {
	var x uint64
	for i, c := range b {
		if i == 10 {
			return 0, 0
		}
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return x, i + 1
		}
	}
	return 0, 0
}

// TestProfiledReset: blocks freed behind the Profiled's back (an arena
// reset) stay in use until their addresses come back, and are then
// counted freed, not twice in use.
func TestProfiledReset(t *testing.T) {
	arena := bump.New()
	p := nalloc.NewProfiled(arena, nalloc.ProfileRate(1))
	l := nalloc.Layout{Size: 256, Align: 8}
	for range 4 {
		profAllocA(t, p, l)
	}
	arena.Reset()
	checkFigures(t, "after Reset", p, map[string]figures{"profAllocA": {4, 1024, 4, 1024}})
	for range 4 {
		profAllocB(t, p, l)
	}
	checkFigures(t, "after reuse", p, map[string]figures{
		"profAllocA": {4, 1024, 0, 0},
		"profAllocB": {4, 1024, 4, 1024},
	})
}

// TestProfiledSamplingRate checks the chance that a block is sampled,
// 1-exp(-size/rate), on 8 goroutines at once (so that countdowns are
// shared and taken past zero concurrently), and on the path that draws a
// block on its own when its countdown waits for a restart. The count of
// samples is binomial: it must be within 5 standard deviations of its
// mean (a false failure about once in 3.5 million runs).
func TestProfiledSamplingRate(t *testing.T) {
	const rate, goroutines, perG = 4096, 8, 25000
	for _, tc := range []struct {
		name  string
		stall bool
	}{{"countdowns", false}, {"drawn", true}} {
		for _, size := range []uintptr{64, 1000, 3 << 10} {
			t.Run(fmt.Sprintf("%s/size=%d", tc.name, size), func(t *testing.T) {
				p := nalloc.NewProfiled(openGlibc(t), nalloc.ProfileRate(rate))
				if tc.stall {
					nalloc.SetProfiledCountdowns(p, -1<<60)
				}
				l := nalloc.Layout{Size: size, Align: 8}
				var wg sync.WaitGroup
				for range goroutines {
					wg.Go(func() {
						for range perG {
							ptr := profAllocA(t, p, l)
							p.Deallocate(ptr, l)
						}
					})
				}
				wg.Wait()
				got, live := nalloc.ProfiledSamples(p)
				n := float64(goroutines * perG)
				prob := -math.Expm1(-float64(size) / rate)
				mean, sd := n*prob, math.Sqrt(n*prob*(1-prob))
				t.Logf("%d samples of %.0f blocks, want %.0f ± %.0f", got, n, mean, sd)
				if math.Abs(float64(got)-mean) > 5*sd {
					t.Errorf("%d blocks of %d bytes sampled of %.0f at rate %d, want %.0f ± %.0f (5 sd)", got, size, n, rate, mean, 5*sd)
				}
				if live != 0 {
					t.Errorf("%d samples live after every block was freed", live)
				}
			})
		}
	}
}

// TestProfiledFastPath: over a native allocator itself Profiled calls its
// fast path; over anything else (a wrapper of one, the Go heap, a type
// that cannot be compared) it calls the allocator's methods, so that a
// Counting under it counts every call.
func TestProfiledFastPath(t *testing.T) {
	g := openGlibc(t)
	if !nalloc.ProfiledFast(nalloc.NewProfiled(g)) {
		t.Error("Profiled over glibc does not take glibc's fast path")
	}
	c := nalloc.NewCounting(g)
	p := nalloc.NewProfiled(c)
	if nalloc.ProfiledFast(p) {
		t.Error("Profiled over a Counting takes glibc's fast path")
	}
	l := nalloc.Layout{Size: 64, Align: 8}
	for range 1000 {
		ptr := profAllocA(t, p, l)
		p.Deallocate(ptr, l)
	}
	if n := c.Counts(); n.Allocations != 1000 || n.Deallocations != 1000 {
		t.Errorf("the Counting under Profiled counted %d allocations and %d frees, want 1000 each", n.Allocations, n.Deallocations)
	}
	if nalloc.ProfiledFast(nalloc.NewProfiled(uncomparable{nalloc.NewGoHeap(), nil})) {
		t.Error("Profiled over a user's allocator takes a fast path")
	}
}

// uncomparable is an allocator of a type that cannot be a map key.
type uncomparable struct {
	nalloc.Allocator
	_ []int
}

// TestProfiledCountdownsAfterFailures: an Allocate of a size no block can
// have leaves the countdowns as they were (its size, past MaxInt64, would
// have sent one up and stopped its sampling), and a countdown a block
// takes past zero is restarted even if the allocator then panics (else
// every later block on it would be drawn on its own, at a random number
// and an exp each).
func TestProfiledCountdownsAfterFailures(t *testing.T) {
	p := nalloc.NewProfiled(openGlibc(t))
	before := nalloc.ProfiledCountdowns(p)
	for _, size := range []uintptr{1<<63 + 1<<62, 1 << 63, ^uintptr(0)} {
		if _, err := p.Allocate(nalloc.Layout{Size: size, Align: 8}); err == nil {
			t.Fatalf("Allocate of %d bytes succeeded", size)
		}
	}
	if after := nalloc.ProfiledCountdowns(p); !slices.Equal(before, after) {
		t.Errorf("countdowns moved by refused allocations: %v, then %v", before, after)
	}

	p = nalloc.NewProfiled(panicking{})
	nalloc.SetProfiledCountdowns(p, 1) // the next block takes its countdown past zero
	func() {
		defer func() { _ = recover() }()
		_, _ = p.Allocate(nalloc.Layout{Size: 64, Align: 8})
		t.Error("the allocator did not panic")
	}()
	for i, left := range nalloc.ProfiledCountdowns(p) {
		if left <= 0 {
			t.Errorf("countdown %d left at %d, not restarted, after the allocator panicked", i, left)
		}
	}
}

// panicking is an allocator whose Allocate panics.
type panicking struct{ nalloc.Allocator }

func (panicking) Allocate(nalloc.Layout) (unsafe.Pointer, error) { panic("panicking allocator") }
