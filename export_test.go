// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import (
	"runtime/metrics"
	"time"
	"unsafe"
)

// MapFallbacks returns how many blocks m took from the Go heap because its
// allocator refused one that TryPut had not reserved.
func MapFallbacks[K comparable, V any](m *Map[K, V]) int { return m.alloc.fallbacks }

// MapSpareBytes returns the size of the block TryPut holds for m's next
// growth, 0 if none.
func MapSpareBytes[K comparable, V any](m *Map[K, V]) uintptr {
	return uintptr(len(m.alloc.spare)) * unsafe.Sizeof(m.alloc.spare[:1][0])
}

// UnknownAllocator is Open's error for a name nothing registered.
var UnknownAllocator = unknownAllocator

// CountProcess is the GC pacer's default count, with the runtime/metrics
// read that it needs.
func CountProcess() (uint64, error) {
	s := [2]metrics.Sample{{Name: pacerSamples[mTotal]}, {Name: pacerSamples[mReleased]}}
	metrics.Read(s[:])
	return countProcess(s[0].Value.Uint64() - s[1].Value.Uint64())
}

// IdlePacer is a GCPacer without its goroutine and cleanup, recomputed
// only when asked: Update is what a GC cycle or a tick runs, Restore what
// Stop runs. It does not count as the running pacer.
type IdlePacer struct{ p *GCPacer }

func NewIdlePacer(opts ...GCPacerOption) (IdlePacer, error) {
	cfg, err := gcPacerOptions(opts)
	if err != nil {
		return IdlePacer{}, err
	}
	p, err := newGCPacer(cfg)
	return IdlePacer{p}, err
}

func (ip IdlePacer) Update()         { ip.p.update() }
func (ip IdlePacer) Restore()        { ip.p.restore() }
func (ip IdlePacer) OffHeap() uint64 { return ip.p.OffHeap() }
func (ip IdlePacer) AppendMetrics(dst []Metric) []Metric {
	return ip.p.AppendMetrics(dst)
}

// PacedGOGC and PacedLimit are the pacer's rules.
func PacedGOGC(gogc int, heapLive, roots, offHeap uint64) int {
	return pacedGOGC(gogc, paceInput{heapLive: heapLive, roots: roots, offHeap: offHeap})
}

var PacedLimit = pacedLimit

// GCPacerClock makes the pacer read the time from now, for the tests of
// how long it holds a count.
func GCPacerClock(now func() time.Time) GCPacerOption {
	return func(c *gcPacerConfig) { c.now = now }
}

const HoldFalls = holdFalls

const HeapMinimum = heapMinimum

var HeldBytes = heldBytes

// GCPacerCgroupRoot makes GCPacerContainerLimit read /proc and /sys
// under root, a directory a test laid out.
func GCPacerCgroupRoot(root string) GCPacerOption {
	return func(c *gcPacerConfig) { c.cgroupRoot = root }
}

// GCPacerNoPurge makes the pacer run without off-heap scavenging, for
// the measurements that compare with it.
func GCPacerNoPurge() GCPacerOption {
	return func(c *gcPacerConfig) { c.noPurge = true }
}

const (
	PurgeGap = purgeGap
)

// Recount takes the default count again, with every opened allocator's
// Stats read afresh if fresh is set, and returns it with its cost.
func (ip IdlePacer) Recount(fresh bool) (uint64, time.Duration, error) {
	if fresh {
		ip.p.opened.refresh()
	}
	start := time.Now()
	ip.p.read()
	x, err := ip.p.count()
	return x, time.Since(start), err
}

var FloorBytes = floorBytes

// ProfiledFast reports whether p calls its allocator's fast path itself.
func ProfiledFast(p *Profiled) bool { return p.fast.Malloc != 0 }

// SetProfiledCountdowns sets every countdown of p to left. Far below
// zero, it is as if each had just been taken past zero by a block whose
// goroutine has not restarted it: every block is then drawn on its own
// (crossed's last case).
func SetProfiledCountdowns(p *Profiled, left int64) {
	for i := range p.countdowns {
		p.countdowns[i].left.Store(left)
	}
}

// ProfiledCountdowns returns p's countdowns.
func ProfiledCountdowns(p *Profiled) []int64 {
	var c []int64
	for i := range p.countdowns {
		c = append(c, p.countdowns[i].left.Load())
	}
	return c
}

// ProfiledSamples returns how many blocks p has sampled, and how many
// of them are live.
func ProfiledSamples(p *Profiled) (allocs, live int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range p.buckets {
		allocs += b.allocs
		live += b.allocs - b.frees
	}
	return allocs, live
}
