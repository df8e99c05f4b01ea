// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import (
	"io"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/nalloc/nalloc/internal/pprofenc"
)

// DefaultProfileRate is the mean number of bytes between samples of a
// Profiled unless ProfileRate says otherwise: 512 KiB, the default of
// runtime.MemProfileRate.
const DefaultProfileRate = 512 * 1024

// Profiled wraps an Allocator and samples its allocations as the Go
// runtime samples its own heap, so that the memory it hands out shows in
// `go tool pprof` per allocating call stack: WriteHeapProfile writes a
// heap profile with Go's four sample types (alloc_objects, alloc_space,
// inuse_objects, inuse_space). It is the off-heap counterpart of
// runtime/pprof's heap profile, cheap enough to leave on in production.
//
// # Sampling
//
// Sampling is a Poisson process over the bytes allocated, with a mean of
// rate bytes between samples (ProfileRate; DefaultProfileRate): a block
// of size bytes is sampled with probability 1-exp(-size/rate), the
// chance that the process puts a point in it, and independently of every
// other block. It is the process that runtime/malloc.go draws as
// exponential gaps between samples; Profiled draws each block's outcome
// from math/rand/v2's per-thread source instead of counting down a
// shared gap, so that concurrent calls write no shared memory. Small and
// large blocks are both represented without bias: WriteHeapProfile
// scales the samples of each stack and size by 1/(1-exp(-size/rate)), as
// runtime/pprof scales the runtime's, so the figures estimate the true
// totals. With rate 1 every block is sampled and the figures are exact.
// Zero-size blocks hold no memory and are never sampled.
//
// A sampled block keeps the stack that allocated it (runtime.Callers,
// from the caller of Allocate, up to 128 frames) until it is given back.
// Grow and Shrink account as the reallocation they are: the old block
// freed, the new one allocated at the stack of the Grow or Shrink call,
// as Go's own profile shows an append that grew a slice. A sampled block
// stays sampled when it grows (and an unsampled one may become sampled
// by its new bytes); one that shrinks stays sampled with probability
// p(new)/p(old), so that every block is sampled with the chance its
// current size gives it.
//
// # Cost
//
// The unsampled path takes no lock and makes no Go heap allocation:
// Allocate draws one random number and compares it with a bound
// (computing the exact probability only when the bound cannot decide);
// Deallocate looks the address up in an open-addressed table of the
// sampled blocks, read with atomic loads, which says no after one probe
// for almost every address (the table is kept at most a quarter full). Only
// sampled blocks take the mutex, capture a stack and touch the table.
// The project's docs/profile.md has the figures.
//
// # Memory
//
// Profiled holds, on the Go heap, the table of live sampled blocks (12
// bytes a slot; at most 16 slots per sampled block at the peak of their
// number, 64 at least) and one record for each distinct stack and size ever sampled
// (four counters, and the stack's program counters, stored once per
// stack), kept for the process's life as the runtime keeps its own. A
// block of size bytes is sampled with probability at most size/rate, so
// the live sampled blocks number on average at most live bytes/rate: at
// the default rate, at most 192 bytes of table per 512 KiB at the peak
// of the memory profiled (0.04%), whatever the block sizes.
//
// Blocks are to be given back through the Profiled (Deallocate, Grow,
// Shrink). A sampled block that leaves otherwise (a heap destroyed
// whole, an arena reset) stays in use in the profile until its address
// is handed out again.
//
// Profiled passes every call on to the allocator it wraps, and sees
// AllocateZeroed and GrowZeroed (so that they are sampled too); it has no
// other optional capability: find the wrapped allocator's with Unwrap.
//
// Profiled is safe for concurrent use if the underlying allocator is.
// Use NewProfiled; the zero value is not usable, and a Profiled must not
// be copied.
type Profiled struct {
	a    Allocator
	rate int
	// bound is ceil(2^63/rate) (0 when sampling is off): a block of size
	// bytes is not sampled if a uniform 63-bit draw is at least
	// size*bound, an upper bound on its probability scaled to 2^63, which
	// decides almost every small block without computing exp.
	bound uint64
	live  atomic.Int64 // sampled blocks live: 0 skips the table on free
	tab   atomic.Pointer[sampleTable]

	mu      sync.Mutex
	stacks  stackTable
	buckets []profBucket
	index   map[bucketKey]uint32 // -> buckets
}

// ProfileOption configures a Profiled in NewProfiled.
type ProfileOption func(*Profiled)

// ProfileRate sets the mean number of bytes allocated between samples
// (DefaultProfileRate if not given). 1 samples every block, for exact
// figures at the cost of a stack capture per allocation. As with
// runtime.MemProfileRate, 0 (or less) samples nothing: the Profiled
// only passes calls on, and its profile is empty.
func ProfileRate(bytes int) ProfileOption {
	return func(p *Profiled) { p.rate = max(bytes, 0) }
}

// NewProfiled returns a Profiled that passes every call on to a and
// samples the blocks it hands out.
func NewProfiled(a Allocator, opts ...ProfileOption) *Profiled {
	p := &Profiled{a: a, rate: DefaultProfileRate, index: map[bucketKey]uint32{}}
	for _, opt := range opts {
		opt(p)
	}
	if p.rate > 0 {
		p.bound = (1<<63-1)/uint64(p.rate) + 1
	}
	p.stacks.ids.Init(0)
	p.tab.Store(newSampleTable(minSampleSlots))
	return p
}

// Unwrap returns the allocator p wraps.
func (p *Profiled) Unwrap() Allocator { return p.a }

// Allocate implements Allocator.
func (p *Profiled) Allocate(l Layout) (unsafe.Pointer, error) {
	ptr, err := p.a.Allocate(l)
	// draw, by hand: the compiler would not inline it.
	if hi, lo := bits.Mul64(uint64(l.Size), p.bound); (hi != 0 || rand.Uint64()>>1 < lo) && err == nil && p.exact(l.Size) {
		p.sampled(ptr, l.Size)
	}
	return ptr, err
}

// AllocateZeroed implements ZeroAllocator with the underlying allocator's
// zeroing path, if it has one.
func (p *Profiled) AllocateZeroed(l Layout) (unsafe.Pointer, error) {
	ptr, err := AllocateZeroed(p.a, l)
	// draw, by hand: the compiler would not inline it.
	if hi, lo := bits.Mul64(uint64(l.Size), p.bound); (hi != 0 || rand.Uint64()>>1 < lo) && err == nil && p.exact(l.Size) {
		p.sampled(ptr, l.Size)
	}
	return ptr, err
}

// Deallocate implements Allocator.
func (p *Profiled) Deallocate(ptr unsafe.Pointer, l Layout) {
	// Before the block is given back: once it is, another goroutine may
	// get the address, and must not find it in the table.
	if l.Size != 0 && p.live.Load() != 0 && p.tab.Load().has(uintptr(ptr)) {
		p.freed(ptr)
	}
	p.a.Deallocate(ptr, l)
}

// Grow implements Allocator.
func (p *Profiled) Grow(ptr unsafe.Pointer, old, new Layout) (unsafe.Pointer, error) {
	if p.isSampled(ptr, old) || (new.Size > old.Size && p.draw(new.Size-old.Size)) {
		return p.resize(ptr, old, new, p.a.Grow)
	}
	return p.a.Grow(ptr, old, new)
}

// GrowZeroed implements ZeroGrower with the underlying allocator's path,
// if it has one.
func (p *Profiled) GrowZeroed(ptr unsafe.Pointer, old, new Layout) (unsafe.Pointer, error) {
	if p.isSampled(ptr, old) || (new.Size > old.Size && p.draw(new.Size-old.Size)) {
		return p.resize(ptr, old, new, p.growZeroed)
	}
	return GrowZeroed(p.a, ptr, old, new)
}

func (p *Profiled) growZeroed(ptr unsafe.Pointer, old, new Layout) (unsafe.Pointer, error) {
	return GrowZeroed(p.a, ptr, old, new)
}

// Shrink implements Allocator.
func (p *Profiled) Shrink(ptr unsafe.Pointer, old, new Layout) (unsafe.Pointer, error) {
	if p.isSampled(ptr, old) {
		return p.resize(ptr, old, new, p.a.Shrink)
	}
	return p.a.Shrink(ptr, old, new)
}

func (p *Profiled) isSampled(ptr unsafe.Pointer, l Layout) bool {
	return l.Size != 0 && p.live.Load() != 0 && p.tab.Load().has(uintptr(ptr))
}

// draw decides whether a block of size bytes (or size new bytes of a
// grown block) is sampled: with probability 1-exp(-size/rate). Its
// common case, a small block that is not sampled, is one multiplication,
// one random number and one comparison.
func (p *Profiled) draw(size uintptr) bool {
	hi, lo := bits.Mul64(uint64(size), p.bound)
	return (hi != 0 || rand.Uint64()>>1 < lo) && p.exact(size)
}

// exact completes draw once its first draw fell under the bound, which
// happens with probability b = min(size*bound/2^63, 1): it accepts with
// probability prob/b, so that the block is sampled with probability prob
// in all. With rate 1 every block with bytes is.
func (p *Profiled) exact(size uintptr) bool {
	if p.rate == 1 {
		return size != 0
	}
	b := min(float64(size)*float64(p.bound)*0x1p-63, 1)
	return rand.Float64()*b < p.prob(size)
}

// prob is the probability that a block of size bytes is sampled:
// 1-exp(-size/rate).
func (p *Profiled) prob(size uintptr) float64 {
	return -math.Expm1(-float64(size) / float64(p.rate))
}

// sampled records the new block at ptr, of size bytes, allocated by the
// caller of the Profiled method that calls it directly.
//
//go:noinline
func (p *Profiled) sampled(ptr unsafe.Pointer, size uintptr) {
	var st stack
	// Skip runtime.Callers, sampled and the Profiled method.
	st.n = runtime.Callers(3, st.pcs[:])
	p.mu.Lock()
	b := p.bucket(p.stacks.intern(st.pcs[:st.n]), size)
	p.buckets[b].allocs++
	p.insert(uintptr(ptr), b)
	p.mu.Unlock()
}

// freed records that the sampled block at ptr is given back, if it is
// still in the table (has's answer may be out of date only for an
// address that is not the caller's: then there is nothing to do).
func (p *Profiled) freed(ptr unsafe.Pointer) {
	p.mu.Lock()
	if b, ok := p.remove(uintptr(ptr)); ok {
		p.buckets[b].frees++
	}
	p.mu.Unlock()
}

// resize is a Grow or Shrink (under) of a block that is sampled, or
// whose new bytes are: it takes the block out of the table while under
// works (which may free ptr, and another goroutine may then get the
// address), and records the result, with the stack of the caller of the
// Profiled method that calls it directly.
//
//go:noinline
func (p *Profiled) resize(ptr unsafe.Pointer, old, new Layout,
	under func(unsafe.Pointer, Layout, Layout) (unsafe.Pointer, error)) (unsafe.Pointer, error) {
	var st stack
	st.n = runtime.Callers(3, st.pcs[:])
	p.mu.Lock()
	b, was := p.remove(uintptr(ptr))
	p.mu.Unlock()

	q, err := under(ptr, old, new)

	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		if was {
			p.insert(uintptr(ptr), b) // the block is the caller's, as it was
		}
		return nil, err
	}
	if was {
		p.buckets[b].frees++
	}
	keep := new.Size != 0
	if was && new.Size < old.Size && p.rate > 1 && keep {
		// Thin: sampled with p(old), kept with p(new)/p(old).
		keep = rand.Float64()*p.prob(old.Size) < p.prob(new.Size)
	}
	if keep {
		nb := p.bucket(p.stacks.intern(st.pcs[:st.n]), new.Size)
		p.buckets[nb].allocs++
		p.insert(uintptr(q), nb)
	}
	return q, nil
}

// A profBucket counts the sampled blocks of one stack and size, as the
// runtime's buckets do: in use are allocs-frees.
type profBucket struct {
	stack         stackID
	size          uintptr
	allocs, frees int64
}

type bucketKey struct {
	stack stackID
	size  uintptr
}

// bucket returns the index of the bucket of stack and size, adding it if
// it is new. p.mu is held.
func (p *Profiled) bucket(stack stackID, size uintptr) uint32 {
	k := bucketKey{stack, size}
	if i, ok := p.index[k]; ok {
		return i
	}
	i := uint32(len(p.buckets))
	p.buckets = append(p.buckets, profBucket{stack: stack, size: size})
	p.index[k] = i
	return i
}

// WriteHeapProfile writes the profile of the blocks p has sampled to w,
// in the format of runtime/pprof's heap profile (gzipped profile.proto,
// as `go tool pprof` reads): the sample types alloc_objects/count,
// alloc_space/bytes, inuse_objects/count and inuse_space/bytes (the
// default in pprof), period type space/bytes with the rate as period,
// one sample per stack and block size with a "bytes" label giving the
// size, and values scaled to estimate the totals, as runtime/pprof scales
// the runtime's samples. alloc_ counts every block sampled since
// NewProfiled; inuse_ the ones not given back yet. Two profiles of the
// same Profiled compare with `go tool pprof -base`.
//
// It holds p's mutex only to copy the counts: allocation goes on while
// the profile is encoded.
func (p *Profiled) WriteHeapProfile(w io.Writer) error {
	now := time.Now()
	p.mu.Lock()
	buckets := append([]profBucket(nil), p.buckets...)
	frames := make([][]uintptr, len(buckets))
	for i, b := range buckets {
		if b.stack != 0 {
			frames[i] = p.stacks.frames[b.stack-1] // never changed once interned
		}
	}
	p.mu.Unlock()

	rate := int64(p.rate)
	prof := pprofenc.Profile{
		SampleTypes: []pprofenc.ValueType{
			{Type: "alloc_objects", Unit: "count"},
			{Type: "alloc_space", Unit: "bytes"},
			{Type: "inuse_objects", Unit: "count"},
			{Type: "inuse_space", Unit: "bytes"},
		},
		PeriodType: pprofenc.ValueType{Type: "space", Unit: "bytes"},
		Period:     rate,
		TimeNanos:  now.UnixNano(),
		Samples:    make([]pprofenc.Sample, 0, len(buckets)),
	}
	inner := map[uintptr]bool{}
	for i, b := range buckets {
		stack := frames[i]
		for len(stack) > 1 && innerFrame(stack[0], inner) {
			stack = stack[1:]
		}
		size := int64(b.size)
		allocObjects, allocBytes := scaleHeapSample(b.allocs, b.allocs*size, rate)
		inuseObjects, inuseBytes := scaleHeapSample(b.allocs-b.frees, (b.allocs-b.frees)*size, rate)
		prof.Samples = append(prof.Samples, pprofenc.Sample{
			Stack:  stack,
			Values: []int64{allocObjects, allocBytes, inuseObjects, inuseBytes},
			Labels: []pprofenc.Label{{Key: "bytes", Num: size}},
		})
	}
	return pprofenc.Write(w, &prof)
}

// innerFrame reports whether the function at pc is one of the package's
// own (a container, AllocateZeroed) or of cockroachdb/swiss (Map's
// engine), remembering the answer in seen.
func innerFrame(pc uintptr, seen map[uintptr]bool) bool {
	inner, ok := seen[pc]
	if !ok {
		name := ""
		if f := runtime.FuncForPC(pc - 1); f != nil {
			name = f.Name()
		}
		inner = inPackage(name, "github.com/nalloc/nalloc") || inPackage(name, "github.com/cockroachdb/swiss")
		seen[pc] = inner
	}
	return inner
}

// inPackage reports whether the function name is in the package path
// pkg (not a package under it).
func inPackage(name, pkg string) bool {
	rest, ok := strings.CutPrefix(name, pkg+".")
	return ok && !strings.Contains(rest, "/")
}

// scaleHeapSample turns the count and bytes of the samples of one block
// size into estimates of the true count and bytes: each block was
// sampled with probability 1-exp(-size/rate), so each sample stands for
// 1/that many. It is runtime/pprof's scaling of the runtime's samples
// (which have the same probability); with rate 1 (or sampling off)
// nothing is scaled.
func scaleHeapSample(count, size, rate int64) (int64, int64) {
	if count == 0 || size == 0 {
		return 0, 0
	}
	if rate <= 1 {
		return count, size
	}
	avg := float64(size) / float64(count)
	scale := 1 / -math.Expm1(-avg/float64(rate))
	return int64(float64(count) * scale), int64(float64(size) * scale)
}

// The table of sampled blocks.
//
// Deallocate must tell whether a block was sampled without a lock, on
// every call. sampleTable is an open-addressed hash table of the
// addresses of the sampled blocks, with linear probing: lookups read the
// keys with atomic loads and no lock; inserts and removals happen under
// Profiled.mu, and a removal leaves a tombstone, so that no probe
// sequence is ever cut short under a reader. When live keys and
// tombstones fill a quarter of the table, it is rebuilt, into a new table that
// replaces it atomically; a reader still in the old one finds there every
// key that was live when it started. Reading a stale table is safe
// because has only answers for the caller's own block: no other
// goroutine inserts or removes that address while the caller holds the
// block, and any yes is checked again under the mutex.
type sampleTable struct {
	keys  []atomic.Uintptr // 0: empty, tombstone: removed
	vals  []uint32         // bucket index, under Profiled.mu
	shift uint8            // 64 - log2(len(keys))
	live  int              // under Profiled.mu
	used  int              // live + tombstones, under Profiled.mu
}

const (
	tombstone      = ^uintptr(0) // no block of a nonzero size starts there
	minSampleSlots = 64
)

func newSampleTable(slots int) *sampleTable {
	return &sampleTable{keys: make([]atomic.Uintptr, slots), vals: make([]uint32, slots),
		shift: uint8(64 - bits.TrailingZeros(uint(slots)))}
}

// slot is where the probe for addr starts (Fibonacci hashing).
func (t *sampleTable) slot(addr uintptr) int {
	return int((uint64(addr) * 0x9e3779b97f4a7c15) >> t.shift)
}

// has reports whether addr is a key.
func (t *sampleTable) has(addr uintptr) bool {
	mask := len(t.keys) - 1
	for i := t.slot(addr); ; i = (i + 1) & mask {
		switch t.keys[i&mask].Load() {
		case 0:
			return false
		case addr:
			return true
		}
	}
}

// insert adds the live sampled block at addr to the table. p.mu is held.
func (p *Profiled) insert(addr uintptr, bucket uint32) {
	if stale, ok := p.remove(addr); ok {
		// A block at addr was given back without passing through p (a
		// heap destroyed whole, an arena reset): it is freed now.
		p.buckets[stale].frees++
	}
	t := p.tab.Load()
	if 4*(t.used+1) > len(t.keys) {
		slots := minSampleSlots
		for slots < 8*(t.live+1) {
			slots *= 2
		}
		nt := newSampleTable(slots)
		for i := range t.keys {
			if k := t.keys[i].Load(); k != 0 && k != tombstone {
				nt.put(k, t.vals[i])
			}
		}
		p.tab.Store(nt)
		t = nt
	}
	t.put(addr, bucket)
	p.live.Add(1)
}

func (t *sampleTable) put(addr uintptr, bucket uint32) {
	mask := len(t.keys) - 1
	for i := t.slot(addr); ; i = (i + 1) & mask {
		if k := t.keys[i].Load(); k == 0 || k == tombstone {
			if k == 0 {
				t.used++
			}
			t.vals[i] = bucket
			t.keys[i].Store(addr)
			t.live++
			return
		}
	}
}

// remove takes addr out of the table and returns its bucket, if it is
// there. p.mu is held.
func (p *Profiled) remove(addr uintptr) (uint32, bool) {
	t := p.tab.Load()
	mask := len(t.keys) - 1
	for i := t.slot(addr); ; i = (i + 1) & mask {
		switch t.keys[i].Load() {
		case 0:
			return 0, false
		case addr:
			t.keys[i].Store(tombstone)
			t.live--
			p.live.Add(-1)
			return t.vals[i], true
		}
	}
}
