// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import (
	"math"
	"time"

	"github.com/nalloc/nalloc/internal/opened"
)

// Off-heap scavenging. The Go runtime's scavenger gives free heap pages
// back to the OS as the process nears its memory limit; the native
// allocators keep what was freed in them (glibc's fragmented arenas,
// jemalloc's dirty pages until they decay, mimalloc's and tcmalloc's
// caches), and the pacer's count sees that memory as off-heap. Without
// scavenging, the pacer would answer it by lowering the Go runtime's
// limit, and the collector would run harder and harder while the
// allocators sat on free pages. So while a limit is in force and the
// process nears it, the pacer first has the allocators Purge, counts
// again, and only then sets the Go runtime's limit from the count.
//
// The thresholds (docs/gcpacer.md has the measurements behind them):
//
//   - Near: the Go runtime's memory plus the count reach purgeAt of the
//     limit on both.
//   - Not the workload: after a round that took d, the next waits at
//     least max(purgeGap, purgeCostFactor·d), so Purge takes at most about
//     1/purgeCostFactor of the time; a round that gave back less than
//     purgeWorthwhile of the limit doubles the wait, up to purgeMaxGap,
//     and one that gave back more resets it.
const (
	purgeAt          = 0.90
	purgeGap         = time.Second
	purgeMaxGap      = 32 * time.Second
	purgeCostFactor  = 100
	purgeWorthwhile  = 0.01
	purgeWorthwhileB = 1 << 20 // and never less than 1 MiB
)

// purgeState is the scavenging's bookkeeping, owned by the pacer's
// goroutine.
type purgeState struct {
	next   time.Time     // no round before this
	gap    time.Duration // the wait after a round that gave back little
	rounds uint64
	spent  time.Duration
	freed  uint64
	buf    []any // the allocators of a round, reused
}

// nearLimit reports whether a limit is in force and the Go runtime's
// memory plus the last count have reached purgeAt of it.
func (p *GCPacer) nearLimit() bool {
	l := p.totalLimit(p.userLimit)
	if p.cfg.noPurge || l == math.MaxInt64 {
		return false
	}
	goHeld := p.sample(mTotal) - p.sample(mReleased)
	return float64(goHeld+p.offHeap) >= purgeAt*float64(l)
}

// scavenge runs a round of Purge if the rate limit allows one: every
// native allocator the process has opened and every allocator the
// program named with GCPacerAllocators, then a new count.
func (p *GCPacer) scavenge() {
	now := p.cfg.now()
	if now.Before(p.purge.next) {
		return
	}
	before := p.offHeap
	start := p.cfg.now() // the pacer's clock, as for the gap: tests run on a fake one
	all := opened.Append(p.purge.buf[:0])
	for _, a := range p.cfg.allocators {
		all = append(all, a)
	}
	for _, a := range all {
		if a, ok := a.(Allocator); ok {
			Purge(a) // one that cannot (ErrUnsupported) has nothing to give
		}
	}
	clear(all) // keep no allocator alive through the buffer
	p.purge.buf = all[:0]
	d := p.cfg.now().Sub(start)
	p.purge.rounds++
	p.purge.spent += d
	after := before
	p.opened.refresh()
	if x, err := p.count(); err == nil {
		after = x
		// The fall is real memory given back: the window's peak must
		// not hold the count from before the round.
		p.offHeap = x
		p.peaks = peakWindow{}
		p.peaks.add(now, x)
	}
	freed := before - min(before, after)
	p.purge.freed += freed
	worth := max(uint64(purgeWorthwhile*float64(p.totalLimit(p.userLimit))), purgeWorthwhileB)
	if p.purge.gap == 0 || freed >= worth {
		p.purge.gap = purgeGap
	} else {
		p.purge.gap = min(2*p.purge.gap, purgeMaxGap)
	}
	p.purge.next = now.Add(max(p.purge.gap, purgeCostFactor*d))
}
