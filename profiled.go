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

	"github.com/nalloc/nalloc/internal/ffi"
	"github.com/nalloc/nalloc/internal/opened"
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
// rate bytes between samples (ProfileRate; DefaultProfileRate), drawn as
// runtime/malloc.go draws its own: a countdown of bytes to the next
// sample, restarted at an exponentially distributed gap each time a block
// takes it past zero, which samples that block. The exponential
// distribution has no memory, so whatever came before, a block of size
// bytes is sampled with probability 1-exp(-size/rate), the chance that
// the process puts a point in it. The runtime keeps one countdown per P
// (mcache.nextSample); a library cannot, so Profiled keeps 64, each on a
// cache line of its own, and a goroutine uses the one its stack's address
// picks: a goroutine keeps using the same, and k goroutines running at
// once share none with probability (63/64)·(62/64)···((65-k)/64), 98% for
// 2 and 64% for 8. A block that finds its countdown past zero but not yet
// restarted by the block that took it there (the drawing of a gap, under
// a microsecond) is drawn on its own, with the same probability. Small
// and large blocks are both represented without bias: WriteHeapProfile
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
// Allocate subtracts the block's size from its countdown (one atomic
// add); Deallocate reads one counter of a filter of the sampled blocks'
// addresses, 0 for almost every block that is not sampled and never for
// one that is, and only when it is not 0 looks the address up in an
// open-addressed table of the sampled blocks, read with atomic loads.
// Only sampled blocks take the mutex, capture a stack and touch the
// table. When Profiled wraps a native allocator itself (not a wrapper of
// one), its Allocate and Deallocate call the allocator's fast path
// directly, the same code (ffi.FastMalloc) the allocator's own methods
// run, so that Profiled's frame takes the place of the allocator's
// rather than adding one; every other call, and every call on any other
// allocator, goes through the allocator's methods. The project's
// docs/profile.md has the figures.
//
// # Memory
//
// Profiled holds, on the Go heap, 72 KiB of its own (the countdowns, 8
// KiB, and the filter, 64 KiB), the table of live sampled blocks (12
// bytes a slot; at most 16 slots per sampled block at the peak of their
// number, 64 at least) and one record for each distinct stack and size
// ever sampled (four counters, and the stack's program counters, stored
// once per stack), kept for the process's life as the runtime keeps its
// own. A block of size bytes is sampled with probability at most
// size/rate, so the live sampled blocks number on average at most live
// bytes/rate: at the default rate, at most 192 bytes of table per 512 KiB
// at the peak of the memory profiled (0.04%), whatever the block sizes.
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
	// First, so that Allocate finds a countdown at no offset.
	countdowns [countdowns]countdown
	// filter[filterSlot(addr)] counts the live sampled blocks whose
	// address hashes there (written under mu, read without).
	filter [filterSlots]atomic.Uint32

	a Allocator
	// fast is a copy of a's fast path if a is a native allocator itself
	// (internal/opened lists them), and the zero FastMalloc, which takes
	// no call, if not.
	fast ffi.FastMalloc
	rate int
	tab  atomic.Pointer[sampleTable]

	mu      sync.Mutex
	stacks  stackTable
	buckets []profBucket
	index   map[bucketKey]uint32 // -> buckets
}

// countdown is the bytes left until the next sample, on a cache line of
// its own: 128 bytes, arm64's line (Apple's cores, Neoverse's pairs) and
// two of amd64's, which its adjacent-line prefetcher fetches together.
type countdown struct {
	left atomic.Int64
	_    [128 - 8]byte
}

const (
	countdowns  = 64      // a power of two
	filterSlots = 1 << 14 // a power of two
)

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
	if f := opened.FastPath(a); f != nil {
		p.fast = *f
	}
	for i := range p.countdowns {
		p.countdowns[i].left.Store(p.gap())
	}
	p.stacks.ids.Init(0)
	p.tab.Store(newSampleTable(minSampleSlots))
	return p
}

// Unwrap returns the allocator p wraps.
func (p *Profiled) Unwrap() Allocator { return p.a }

// Allocate implements Allocator.
//
// It and Deallocate are nosplit, as the native allocators' are (see
// internal/native's Malloc): their frames are a few words, and what they
// call checks the stack itself.
//
//go:nosplit
func (p *Profiled) Allocate(l Layout) (unsafe.Pointer, error) {
	// sample, by hand (the compiler would not inline it), before the
	// block is allocated, so that nothing is live across the call: the
	// countdown has no memory, so a block's chance of being sampled is
	// the same whether the blocks counted before it were allocated or
	// not.
	c := p.countdown()
	left := c.left.Add(-int64(l.Size))
	if left > 0 && p.fast.Allocates(l.Size, l.Align) {
		if q := ffi.Fast1(p.fast.Malloc, l.Size); q != 0 {
			return ffi.Ptr(q), nil
		}
		// The block is not sampled (left > 0): nothing of the
		// countdown is to be kept live across the call.
		return p.allocate(l, nil, 1)
	}
	return p.allocate(l, c, left)
}

// allocate is Allocate for a block that took its countdown to left, when
// it is zero or below or the block is not for the fast path: it allocates
// the block through the allocator's method, and records it if it is
// sampled.
func (p *Profiled) allocate(l Layout, c *countdown, left int64) (unsafe.Pointer, error) {
	if int64(l.Size) < 0 {
		// A size no block can have (the allocator will say so) went up
		// the countdown instead of down: take it back.
		c.left.Add(int64(l.Size))
		left = 1
	}
	// crossed restarts the countdown before the call, which may take
	// long (a large block) or panic (a user's allocator), so that other
	// blocks do not find it waiting meanwhile.
	sampled := left <= 0 && p.crossed(c, left, l.Size)
	ptr, err := p.a.Allocate(l)
	if sampled && err == nil {
		p.sampled(ptr, l.Size, 1)
	}
	return ptr, err
}

// AllocateZeroed implements ZeroAllocator with the underlying allocator's
// zeroing path, if it has one.
func (p *Profiled) AllocateZeroed(l Layout) (unsafe.Pointer, error) {
	ptr, err := AllocateZeroed(p.a, l)
	if err == nil && p.sample(l.Size) {
		p.sampled(ptr, l.Size, 0)
	}
	return ptr, err
}

// Deallocate implements Allocator.
//
//go:nosplit
func (p *Profiled) Deallocate(ptr unsafe.Pointer, l Layout) {
	// Before the block is given back: once it is, another goroutine may
	// get the address, and must not find it in the table.
	// isSampled, by hand: the compiler would not inline it.
	if p.filter[filterSlot(uintptr(ptr))].Load() != 0 && l.Size != 0 && p.tab.Load().has(uintptr(ptr)) {
		p.freed(ptr)
	}
	if p.fast.Frees(l.Size) {
		ffi.Fast1(p.fast.Free, uintptr(ptr))
		return
	}
	p.a.Deallocate(ptr, l)
}

// Grow implements Allocator.
func (p *Profiled) Grow(ptr unsafe.Pointer, old, new Layout) (unsafe.Pointer, error) {
	return p.grow(ptr, old, new, p.a.Grow)
}

// GrowZeroed implements ZeroGrower with the underlying allocator's path,
// if it has one.
func (p *Profiled) GrowZeroed(ptr unsafe.Pointer, old, new Layout) (unsafe.Pointer, error) {
	return p.grow(ptr, old, new, p.growZeroed)
}

// grow is Grow and GrowZeroed, under being the allocator's. A block that
// was not sampled is sampled after it grows if its new bytes are: it is
// then sampled with the probability its new size gives it.
func (p *Profiled) grow(ptr unsafe.Pointer, old, new Layout,
	under func(unsafe.Pointer, Layout, Layout) (unsafe.Pointer, error)) (unsafe.Pointer, error) {
	if p.isSampled(ptr, old) {
		return p.resize(ptr, old, new, under, 1)
	}
	q, err := under(ptr, old, new)
	if err == nil && new.Size > old.Size && p.sample(new.Size-old.Size) {
		p.sampled(q, new.Size, 1)
	}
	return q, err
}

func (p *Profiled) growZeroed(ptr unsafe.Pointer, old, new Layout) (unsafe.Pointer, error) {
	return GrowZeroed(p.a, ptr, old, new)
}

// Shrink implements Allocator.
func (p *Profiled) Shrink(ptr unsafe.Pointer, old, new Layout) (unsafe.Pointer, error) {
	if p.isSampled(ptr, old) {
		return p.resize(ptr, old, new, p.a.Shrink, 0)
	}
	return p.a.Shrink(ptr, old, new)
}

// isSampled reports whether the block at ptr, of l.Size bytes, the
// caller's, is sampled: almost always no after one counter of the filter.
// Zero-size blocks are never sampled, and may share an address with a
// block that is (an arena's next block).
func (p *Profiled) isSampled(ptr unsafe.Pointer, l Layout) bool {
	if l.Size == 0 {
		return false
	}
	return p.filter[filterSlot(uintptr(ptr))].Load() != 0 && p.tab.Load().has(uintptr(ptr))
}

// filterSlot is the block at addr's slot of the filter: the top 14 bits
// of a multiplicative hash, with another multiplier than the table's
// (murmur3's), so that a block the filter lets through by a collision
// does not start its probe of the table in the cluster of the block it
// collided with.
func filterSlot(addr uintptr) uint64 {
	return uint64(addr) * 0xff51afd7ed558ccd >> (64 - 14)
}

// sample reports whether a block of size bytes (or size new bytes of a
// grown block) is sampled: it counts size down on the countdown the
// goroutine's stack picks, and the block is sampled if it takes it past
// zero. Its common case, a block that is not sampled, is one atomic add
// and a test.
func (p *Profiled) sample(size uintptr) bool {
	c := p.countdown()
	left := c.left.Add(-int64(size))
	return left <= 0 && p.crossed(c, left, size)
}

// countdown is the countdown of the calling goroutine, picked by the
// address of its stack: goroutine stacks are 2 KiB at least, so the
// address in KiB, hashed, tells goroutines apart and stays put while one
// runs. (A goroutine whose stack moves may change countdowns, and two
// may share one: that costs time, never accuracy.)
func (p *Profiled) countdown() *countdown {
	var here byte
	return &p.countdowns[uint64(uintptr(unsafe.Pointer(&here))>>10)*0x9e3779b97f4a7c15>>58%countdowns]
}

// crossed finishes sample for a block that left its countdown at left,
// zero or below. If the block took it there, the block holds the
// sample and the countdown starts again at a fresh gap. If another block
// took it there and has not restarted it yet, this block is drawn on its
// own, with the probability 1-exp(-size/rate) the process gives it: its
// bytes are not counted on the countdown, which the restart overwrites.
//
//go:noinline
func (p *Profiled) crossed(c *countdown, left int64, size uintptr) bool {
	switch {
	case size == 0:
		return false
	case left+int64(size) > 0 || p.rate <= 1:
		// With rate 1, every block takes its countdown (of 1) past zero;
		// with sampling off, only 2^63 bytes do, and none is sampled.
		c.left.Store(p.gap())
		return p.rate > 0
	}
	return rand.Float64() < p.prob(size)
}

// gap draws the bytes to the next sample, an exponentially distributed
// number with the rate as mean, rounded up (so that a block of size bytes,
// a whole number, takes a fresh countdown past zero with probability
// exactly 1-exp(-size/rate), and the countdown keeps no memory from one
// block to the next), and 1 at least. With sampling off it is 2^63-1
// bytes, and with rate 1, 1: every block takes it past zero.
func (p *Profiled) gap() int64 {
	switch {
	case p.rate <= 0:
		return math.MaxInt64
	case p.rate == 1:
		return 1
	}
	g := -math.Log(1-rand.Float64()) * float64(p.rate) // 1-Float64 is in (0, 1]
	return int64(max(math.Ceil(min(g, 1<<62)), 1))
}

// prob is the probability that a block of size bytes is sampled:
// 1-exp(-size/rate).
func (p *Profiled) prob(size uintptr) float64 {
	return -math.Expm1(-float64(size) / float64(p.rate))
}

// sampled records the new block at ptr, of size bytes, allocated by the
// caller of the Profiled method that calls it through depth functions of
// its own (0: directly).
//
//go:noinline
func (p *Profiled) sampled(ptr unsafe.Pointer, size uintptr, depth int) {
	var st stack
	// Skip runtime.Callers, sampled, the functions between and the
	// Profiled method.
	st.n = runtime.Callers(3+depth, st.pcs[:])
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

// resize is a Grow or Shrink (under) of a block that is sampled: it
// takes the block out of the table while under works (which may free
// ptr, and another goroutine may then get the address), and records the
// result, with the stack of the caller of the Profiled method that calls
// it through depth functions of its own (0: directly).
//
//go:noinline
func (p *Profiled) resize(ptr unsafe.Pointer, old, new Layout,
	under func(unsafe.Pointer, Layout, Layout) (unsafe.Pointer, error), depth int) (unsafe.Pointer, error) {
	var st stack
	st.n = runtime.Callers(3+depth, st.pcs[:])
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
	p.filter[filterSlot(addr)].Add(1)
	t.put(addr, bucket)
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
			p.filter[filterSlot(addr)].Add(^uint32(0))
			return t.vals[i], true
		}
	}
}
