// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/nalloc/nalloc/internal/cgroup"
)

// ErrGCPacerRunning is StartGCPacer's error while another GCPacer runs:
// GOGC and the memory limit are settings of the whole process, and two
// pacers would undo each other's.
// Stop it before starting another.
var ErrGCPacerRunning = errors.New("nalloc: a GC pacer is already running")

// ErrGCPacerOption is StartGCPacer's error for an option it cannot take:
// GCPacerAllocators with no allocator (leave the option out to count the
// whole process), a nil one, the Go heap (which the GC counts already),
// or one without Stats or a Counting to count it by; a zero or negative
// interval; a negative floor; a GCPacerContainerLimit fraction outside
// (0, 1].
var ErrGCPacerOption = errors.New("nalloc: invalid GC pacer option")

// ErrContainerLimit is StartGCPacer's error with GCPacerContainerLimit
// when the process is in a memory cgroup that it cannot read (a
// hierarchy mounted without read permission, or in a format it does not
// know). Leave the option out and set the limit with GOMEMLIMIT, or make
// /sys/fs/cgroup readable to the process.
var ErrContainerLimit = errors.New("nalloc: cannot read the container's memory limit")

// GCPacer makes the garbage collector count off-heap memory: while it
// runs, GOGC applies to the Go heap plus the off-heap bytes it counts, as
// if they were live heap, and a memory limit the program set (GOMEMLIMIT
// or debug.SetMemoryLimit) bounds the Go runtime's memory plus those
// bytes. Start it with StartGCPacer, once, early in main.
//
// # Why
//
// The collector paces itself on the live Go heap: with GOGC=100 it lets
// the heap grow to twice what the last cycle found live before it starts
// the next one. Move a 1 GiB live set off the heap and that goal falls to
// a few MiB, so the collector runs hundreds of times more often than
// with the set on the heap, each cycle scanning the Go memory that
// remains; and the memory limit, which counts only the Go runtime's
// memory, no longer keeps the process under it. The pacer gives the
// collector back the headroom a Go live set of the same size would have
// had, and takes the off-heap bytes off the limit. The price is the same
// as with the set on the heap: the Go heap grows into that headroom, so
// peak memory is what it would have been without nalloc.
//
// # What it counts
//
// By default, the larger of two counts. The kernel's: the process's
// anonymous resident memory (/proc/self/statm on Linux, Mach's task_info
// on macOS: see osmem.Resident) less the memory the Go
// runtime holds (its runtime/metrics /memory/classes/total less
// heap/released, what the memory limit counts). That is every native
// allocator's heap, what cgo libraries allocate, thread stacks the
// runtime did not make, and memory the allocators keep after a free
// (tcaches, dirty pages, fragmentation): what the process holds, which is
// what the kernel and a container's limit hold it to, for one pread of a
// one-line file. It reads low by what the runtime holds but never
// touched (a buffer made and never written), which on a small off-heap
// set can be all of it. So the pacer also sums the Stats of the native
// allocators the process has opened (Resident, else live bytes, else
// Mapped), each read at most once a second, and counts the larger. Neither sees a block until
// its pages are written (until then it takes no memory) nor memory
// swapped out. GCPacerAllocators counts given allocators' own figures
// instead. docs/gcpacer.md gives the measurements behind the choice.
//
// # In a container
//
// A memory limit is the program's (GOMEMLIMIT, debug.SetMemoryLimit) or,
// with GCPacerContainerLimit, a fraction of its memory cgroup's. While
// one is in force and the Go runtime's memory plus the count reach 90%
// of it, the pacer first has the native allocators the process opened
// (and those given to GCPacerAllocators) give their free memory back
// (Purge), counts again, and only then sets the Go runtime's limit from
// the count: memory an allocator keeps after a free goes back to the OS
// before the collector is squeezed for it. Purge rounds are rate-limited
// (at most one a second and about 1% of the time, backing off while
// rounds give back little). The pacer cannot keep a process whose live
// memory exceeds the limit from being killed; it keeps the garbage and
// the free memory from tipping it over.
//
// # When it recomputes
//
// After every GC cycle (a cleanup on an object that the pacer re-arms
// each cycle wakes it) and on a background tick (every 100 ms by
// default, GCPacerInterval), which sees off-heap memory that grows
// between cycles, a service loading its data at start, before the limit
// is overrun. Each recomputation reads the count and runtime/metrics,
// and paces on the highest count of the last second: a rise acts at
// once, a fall once it has lasted a second (the kernel's count dips while
// the Go heap grows into pages it has not yet written). It changes GOGC or
// the memory limit only when they move by more than a band: 1/64 of
// GOGC; for the limit, any fall of 1 MiB or more at once, a rise only of
// max(1 MiB, 1/64 of the off-heap bytes). Both settings take the
// runtime's heap lock for a moment; neither stops the world or starts a
// collection.
//
// # The settings
//
// With GOGC=g (g > 0), the pacer sets GOGC to the value that puts the
// runtime's heap goal where g would put it if the off-heap bytes X were
// live heap: live + (live + stacks + globals + X)·g/100, and never below
// the runtime's minimum heap at g. With a limit L, it sets the limit to
// L - X, but not below GCPacerMinLimit (64 MiB by default, or L if
// lower): when X alone comes that close to L, collecting cannot bring the
// total under it, and a lower limit would only have the collector run
// without pause. With GOGC=off it leaves GOGC off, and with no limit it
// sets none, so GOGC=off with no limit leaves it nothing to do but count.
// While it runs, GOGC and the limit as the runtime reports them
// (debug.SetGCPercent's return, /gc/gogc:percent) are its working
// values.
//
// The pacer notices when the program changes either setting while it
// runs (through debug.SetGCPercent or debug.SetMemoryLimit; any value
// other than the one it set last is the program's), paces on the new
// value from then on, and Stop puts back the program's settings as they
// are then: those of StartGCPacer's time, or those set since. A change
// to exactly the value the pacer had set cannot be told from no change.
//
// AppendMetrics reports what it counts and sets, for monitoring (package
// nallocvar and the nallocprom module publish it).
//
// A GCPacer is safe for concurrent use; it must not be copied.
type GCPacer struct {
	cfg     gcPacerConfig
	cycle   chan struct{} // a GC cycle ended (from the cleanup)
	stop    chan struct{} // closed by Stop
	done    chan struct{} // closed once the settings are restored
	stopped sync.Once

	// Owned by the pacer's goroutine (and by StartGCPacer before it
	// starts it).
	armed     runtime.Cleanup
	samples   [numPacerSamples]metrics.Sample
	offHeap   uint64     // the last count
	peaks     peakWindow // the counts of the last holdFalls, for pacing
	userGOGC  int        // the program's GOGC; -1 for off
	userLimit int64      // the program's memory limit; math.MaxInt64 for none
	container int64      // GCPacerContainerLimit's limit; math.MaxInt64 for none
	setGOGC   int        // the GOGC the pacer set last, or userGOGC
	setLimit  int64      // the limit the pacer set last, or userLimit
	purge     purgeState
	opened    openedStats // the default count's second source

	// What OffHeap and AppendMetrics report: a copy of the above that the
	// pacer's goroutine makes after each recomputation and at Stop.
	state struct {
		sync.Mutex
		s gcPacerState
	}
}

// gcPacerState is a GCPacer's state as its metrics report it.
type gcPacerState struct {
	running          bool
	offHeap          uint64 // the last count
	gogc, userGOGC   int    // -1 for off
	limit, userLimit int64  // math.MaxInt64 for none
	container        int64  // math.MaxInt64 for none
	purges           uint64 // Purge rounds run
	purgeTime        time.Duration
	purged           uint64 // what the count fell by across them
}

// publish makes the pacer's current state what OffHeap and AppendMetrics
// report.
func (p *GCPacer) publish(running bool) {
	p.state.Lock()
	p.state.s = gcPacerState{
		running: running, offHeap: p.offHeap,
		gogc: p.setGOGC, userGOGC: p.userGOGC,
		limit: p.setLimit, userLimit: p.userLimit,
		container: p.container,
		purges:    p.purge.rounds, purgeTime: p.purge.spent, purged: p.purge.freed,
	}
	p.state.Unlock()
}

// report returns the state publish made last.
func (p *GCPacer) report() gcPacerState {
	p.state.Lock()
	defer p.state.Unlock()
	return p.state.s
}

// The runtime/metrics every recomputation reads, in one metrics.Read.
const (
	mHeapLive = iota
	mScanStack
	mScanGlobals
	mGOGC
	mLimit
	mTotal
	mReleased
	numPacerSamples
)

var pacerSamples = [numPacerSamples]string{
	mHeapLive:    "/gc/heap/live:bytes",    // heapMarked: live after the last cycle
	mScanStack:   "/gc/scan/stack:bytes",   // lastStackScan
	mScanGlobals: "/gc/scan/globals:bytes", // globalsScan
	mGOGC:        "/gc/gogc:percent",       // gcPercent; -1 as uint64 when off
	mLimit:       "/gc/gomemlimit:bytes",   // memoryLimit
	mTotal:       "/memory/classes/total:bytes",
	mReleased:    "/memory/classes/heap/released:bytes",
}

// GCPacerOption configures StartGCPacer.
type GCPacerOption func(*gcPacerConfig)

type gcPacerConfig struct {
	allocators []Allocator // nil: the kernel's count
	container  float64     // GCPacerContainerLimit's fraction; 0: not asked
	cgroupRoot string      // where /proc and /sys are: "/" but in tests
	interval   time.Duration
	minLimit   int64
	noPurge    bool             // tests: measure the pacer without scavenging
	now        func() time.Time // time.Now but in tests
	err        error            // the first bad option
}

const (
	defaultPacerInterval = 100 * time.Millisecond
	defaultMinLimit      = 64 << 20
)

// gcPacerOptions applies opts to the defaults.
func gcPacerOptions(opts []GCPacerOption) (gcPacerConfig, error) {
	cfg := gcPacerConfig{interval: defaultPacerInterval, minLimit: defaultMinLimit, now: time.Now, cgroupRoot: "/"}
	for _, opt := range opts {
		opt(&cfg)
	}
	return cfg, cfg.err
}

func (c *gcPacerConfig) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// GCPacerAllocators makes the pacer count the given allocators' own
// figures instead of the kernel's: for each, from its Stats, Resident
// where it reports it (jemalloc), else Mapped (glibc's arenas and mmapped
// blocks, mimalloc's committed memory), else Allocated; an allocator
// without Stats is counted by the live bytes of a Counting that wraps it.
// Each must have Stats or a Counting in its chain of wrappers (see As), be safe to
// call from another goroutine, and hold memory that is not on the Go heap
// (not "go", nor a bump arena on Go memory). Memory outside them (cgo
// libraries, other allocators) is not counted, and each count costs what
// their Stats cost: glibc's mallinfo2 walks its free lists under the arena
// locks, which over a fragmented heap takes long enough to stall that
// arena's allocations (docs/gcpacer.md has the figures). Near a limit,
// the pacer also has them give their free memory back (Purge, through
// their wrappers), with the native allocators the process has opened.
func GCPacerAllocators(a ...Allocator) GCPacerOption {
	return func(c *gcPacerConfig) {
		if len(a) == 0 {
			c.fail(fmt.Errorf("%w: GCPacerAllocators with no allocator", ErrGCPacerOption))
		}
		for i, x := range a {
			switch {
			case x == nil:
				c.fail(fmt.Errorf("%w: GCPacerAllocators: allocator %d is nil", ErrGCPacerOption, i))
			case has[*GoHeap](x):
				c.fail(fmt.Errorf("%w: GCPacerAllocators: allocator %d is the Go heap", ErrGCPacerOption, i))
			case has[StatsReporter](x) || has[*Counting](x):
				c.allocators = append(c.allocators, x)
			default:
				c.fail(fmt.Errorf("%w: GCPacerAllocators: allocator %d (%T) has neither Stats nor a Counting to count", ErrGCPacerOption, i, x))
			}
		}
	}
}

// GCPacerInterval sets how often the pacer recomputes between GC cycles
// (100 ms by default): the longest that off-heap growth goes unseen when
// no collection runs. Each tick costs one count (see GCPacer).
func GCPacerInterval(d time.Duration) GCPacerOption {
	return func(c *gcPacerConfig) {
		if d <= 0 {
			c.fail(fmt.Errorf("%w: GCPacerInterval(%v): the interval must be positive", ErrGCPacerOption, d))
		}
		c.interval = d
	}
}

// GCPacerMinLimit sets the lowest memory limit the pacer sets (64 MiB by
// default; never above the program's own limit).
func GCPacerMinLimit(bytes int64) GCPacerOption {
	return func(c *gcPacerConfig) {
		if bytes < 0 {
			c.fail(fmt.Errorf("%w: GCPacerMinLimit(%d): the floor must not be negative", ErrGCPacerOption, bytes))
		}
		c.minLimit = bytes
	}
}

// GCPacerContainerLimit makes the pacer keep the process within the
// memory limit of its container when the program has set none: it takes
// fraction × the limit of the process's own memory cgroup (cgroup v2
// memory.max, or v1 memory.limit_in_bytes, the lowest on the way up to
// the hierarchy's root) as the limit on the Go runtime's memory plus the
// off-heap bytes, as if the program had set it with GOMEMLIMIT. The
// group is found through /proc/self/cgroup and /proc/self/mountinfo at
// StartGCPacer; a process in no memory cgroup, or in one without a
// limit, gets no limit from it. A limit the program sets (GOMEMLIMIT,
// debug.SetMemoryLimit) takes precedence, then and while the pacer runs.
//
// fraction must be in (0, 1]: 0.9 is the usual choice, leaving a tenth
// of the container for what no count sees in time (page cache charged to
// the group, memory that grows between two counts, the runtime's
// overshoot of a soft limit). A bad fraction is an error wrapping
// ErrGCPacerOption; a cgroup that cannot be read, one wrapping
// ErrContainerLimit. docs/gcpacer.md says how it combines with
// GOMEMLIMIT and automemlimit.
func GCPacerContainerLimit(fraction float64) GCPacerOption {
	return func(c *gcPacerConfig) {
		if !(fraction > 0 && fraction <= 1) { // NaN too
			c.fail(fmt.Errorf("%w: GCPacerContainerLimit(%v): the fraction must be in (0, 1]", ErrGCPacerOption, fraction))
		}
		c.container = fraction
	}
}

// containerLimit returns fraction × the process's memory cgroup's limit,
// or math.MaxInt64 for none.
func containerLimit(root string, fraction float64) (int64, error) {
	m, ok, err := cgroup.FindAt(root)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrContainerLimit, err)
	}
	if !ok || m.Limit == 0 {
		return math.MaxInt64, nil
	}
	return int64(min(float64(m.Limit)*fraction, math.MaxInt64/2)), nil
}

// pacer is the running GCPacer, if any.
var pacer struct {
	sync.Mutex
	running *GCPacer
}

// StartGCPacer starts pacing the garbage collector on the Go heap plus
// the off-heap memory it counts, as GCPacer describes, and returns once
// GOGC and the memory limit reflect the memory in use now. It runs until
// Stop.
//
// A second StartGCPacer while one runs returns an error wrapping
// ErrGCPacerRunning (and changes nothing); after Stop, a new one can
// start. A bad option, or a count that cannot be taken (on a system other
// than Linux and macOS, an error wrapping ErrUnsupported; an allocator
// whose Stats fail), is an error that says which.
func StartGCPacer(opts ...GCPacerOption) (*GCPacer, error) {
	cfg, err := gcPacerOptions(opts)
	if err != nil {
		return nil, err
	}
	pacer.Lock()
	defer pacer.Unlock()
	if pacer.running != nil {
		return nil, ErrGCPacerRunning
	}
	p, err := newGCPacer(cfg)
	if err != nil {
		return nil, err
	}
	p.arm()
	pacer.running = p
	go p.run()
	return p, nil
}

// newGCPacer takes the program's settings and the first count, and
// applies it.
func newGCPacer(cfg gcPacerConfig) (*GCPacer, error) {
	p := &GCPacer{
		cfg:   cfg,
		cycle: make(chan struct{}, 1),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	for i, name := range pacerSamples {
		p.samples[i].Name = name
	}
	p.container = math.MaxInt64
	if cfg.container > 0 {
		l, err := containerLimit(cfg.cgroupRoot, cfg.container)
		if err != nil {
			return nil, err
		}
		p.container = l
	}
	p.read()
	p.userGOGC, p.userLimit = p.observedGOGC(), p.observedLimit()
	p.setGOGC, p.setLimit = p.userGOGC, p.userLimit
	x, err := p.count()
	if err != nil {
		return nil, err
	}
	p.record(x)
	p.apply()
	p.publish(true)
	return p, nil
}

// Stop stops the pacer and puts back the program's GOGC and memory limit
// (see GCPacer for which). It returns once they are back; it may be
// called from any goroutine, more than once, and concurrently: every
// call returns after the first has finished.
func (p *GCPacer) Stop() {
	p.stopped.Do(func() {
		close(p.stop)
		<-p.done
		pacer.Lock()
		if pacer.running == p {
			pacer.running = nil
		}
		pacer.Unlock()
	})
}

// OffHeap returns the off-heap bytes the pacer counted last: at the last
// GC cycle or background tick, or at StartGCPacer. After Stop it keeps
// the last figure.
func (p *GCPacer) OffHeap() uint64 { return p.report().offHeap }

// run is the pacer's goroutine: it recomputes after each GC cycle and on
// each tick until Stop, then restores the program's settings.
func (p *GCPacer) run() {
	defer close(p.done)
	tick := time.NewTicker(p.cfg.interval)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			p.armed.Stop()
			p.restore()
			return
		case <-p.cycle:
			p.arm()
			p.update()
		case <-tick.C:
			p.update()
		}
	}
}

// gcSentinel is the object whose cleanup tells the pacer that a GC cycle
// has ended. It holds a pointer so that the tiny allocator, which packs
// small pointer-free objects together and can keep one alive with its
// neighbours, never serves it.
type gcSentinel struct{ _ *byte }

// arm attaches the cycle notification to a new, unreachable object: the
// first cycle that starts after this call frees it and queues the
// cleanup. An object allocated while a cycle marks survives that cycle,
// so back-to-back cycles may wake the pacer once for two; the tick sees
// the cycle it missed.
func (p *GCPacer) arm() {
	p.armed = runtime.AddCleanup(new(gcSentinel), func(c chan struct{}) {
		select {
		case c <- struct{}{}:
		default: // a notification is pending already
		}
	}, p.cycle)
}

// update recomputes the count and the settings.
func (p *GCPacer) update() {
	p.read()
	// A setting other than the one the pacer made last is the program's.
	if g := p.observedGOGC(); g != p.setGOGC {
		p.userGOGC, p.setGOGC = g, g
	}
	if l := p.observedLimit(); l != p.setLimit {
		p.userLimit, p.setLimit = l, l
	}
	if x, err := p.count(); err == nil {
		p.record(x)
	} // else keep the last count: a failed read says nothing new
	if p.nearLimit() {
		p.scavenge()
	}
	p.apply()
	p.publish(true)
}

func (p *GCPacer) read() { metrics.Read(p.samples[:]) }

func (p *GCPacer) sample(i int) uint64 { return p.samples[i].Value.Uint64() }

func (p *GCPacer) observedGOGC() int { return int(int64(p.sample(mGOGC))) }

func (p *GCPacer) observedLimit() int64 { return int64(min(p.sample(mLimit), math.MaxInt64)) }

// count returns the off-heap bytes: the allocators' own figures, or the
// kernel's anonymous resident memory less the Go runtime's.
func (p *GCPacer) count() (uint64, error) {
	if p.cfg.allocators != nil {
		return countAllocators(p.cfg.allocators)
	}
	x, err := countProcess(p.sample(mTotal) - p.sample(mReleased))
	if err != nil {
		return 0, err
	}
	return max(x, p.opened.count(p.cfg.now())), nil
}

// record keeps a new count.
func (p *GCPacer) record(x uint64) {
	p.offHeap = x
	p.peaks.add(p.cfg.now(), x)
}

// apply sets GOGC and the memory limit for the highest count of the last
// holdFalls, if they moved by more than their bands.
func (p *GCPacer) apply() {
	x := p.peaks.max(p.cfg.now())
	in := paceInput{
		heapLive: p.sample(mHeapLive),
		roots:    p.sample(mScanStack) + p.sample(mScanGlobals),
		offHeap:  x,
	}
	if g := pacedGOGC(p.userGOGC, in); g != p.setGOGC && (p.setGOGC == p.userGOGC || outsideBand(g, p.setGOGC)) {
		swap(debug.SetGCPercent, g, &p.setGOGC, &p.userGOGC, func(user int) int { return pacedGOGC(user, in) })
	}
	if l := pacedLimit(p.totalLimit(p.userLimit), x, p.cfg.minLimit); l != p.setLimit {
		// Falls at once (the limit is the program's protection), rises
		// lazily (a limit too low for a moment costs only a collection).
		fall := l < p.setLimit && p.setLimit-l >= 1<<20
		rise := l > p.setLimit && uint64(l-p.setLimit) >= max(1<<20, x/64)
		if fall || rise || p.setLimit == p.userLimit {
			swap(debug.SetMemoryLimit, l, &p.setLimit, &p.userLimit,
				func(user int64) int64 { return pacedLimit(p.totalLimit(user), x, p.cfg.minLimit) })
		}
	}
}

// totalLimit returns the limit on the Go runtime plus the off-heap bytes
// when the program's own limit is user: user if it set one, else the
// container's.
func (p *GCPacer) totalLimit(user int64) int64 {
	if user != math.MaxInt64 {
		return user
	}
	return p.container
}

// outsideBand reports whether GOGC g differs from cur by more than 1/64.
func outsideBand(g, cur int) bool {
	d := g - cur
	return d*64 > cur || -d*64 > cur
}

// swap sets a process-wide setting (GOGC or the memory limit) to want
// with set, which returns the value it replaced. If that value is not
// *last, the one the pacer set last, the program set it since the pacer
// read it: it becomes *user, and the pacer sets pace(*user) instead.
func swap[T comparable](set func(T) T, want T, last, user *T, pace func(T) T) {
	for {
		prev := set(want)
		if prev == *last {
			*last = want
			return
		}
		*user, *last = prev, want
		if want = pace(prev); want == *last {
			return
		}
	}
}

// restore puts back the program's settings. A value other than the
// pacer's found in their place was set by the program since the last
// update, and stays.
func (p *GCPacer) restore() {
	p.userGOGC = unswap(debug.SetGCPercent, p.userGOGC, p.setGOGC)
	p.userLimit = unswap(debug.SetMemoryLimit, p.userLimit, p.setLimit)
	p.setGOGC, p.setLimit = p.userGOGC, p.userLimit
	p.publish(false)
}

// unswap sets a setting back to user with set, unless the value it
// replaces is not last, the pacer's: then the program set that value, and
// it is put back. It returns the value it leaves.
func unswap[T comparable](set func(T) T, user, last T) T {
	if last != user {
		if prev := set(user); prev != last {
			set(prev)
			return prev
		}
	}
	return user
}

// paceInput is what the GOGC rule needs from the runtime, and the count.
type paceInput struct {
	heapLive uint64 // the heap the last cycle marked live
	roots    uint64 // the stacks and globals the last cycle scanned
	offHeap  uint64
}

// heapMinimum is the runtime's smallest heap goal at GOGC=100 (its
// defaultHeapMinimum, 4 MiB; the goal scales it by GOGC/100).
const heapMinimum = 4 << 20

// pacedGOGC returns the GOGC that puts the runtime's heap goal where g
// would put it with the off-heap bytes counted as live heap.
//
// The runtime's goal for GOGC=g is max(live + (live+roots)·g/100,
// heapMinimum·g/100) (mgcpacer.go, gcControllerState.commit). With X
// off-heap bytes counted as live, the Go heap's share of the goal is
// target = max(live + (live+roots+X)·g/100, heapMinimum·g/100). Both
// terms of the runtime's goal grow with its GOGC g', so the g' that
// reaches target is the smaller of the two that each term needs alone:
// g1 = (target-live)·100/(live+roots) and g2 = target·100/heapMinimum.
func pacedGOGC(g int, in paceInput) int {
	if g <= 0 || in.offHeap == 0 {
		return g // off, or collecting without pause: nothing to scale
	}
	live, h := float64(in.heapLive), float64(in.heapLive+in.roots)
	gf := float64(g) / 100
	target := max(live+(h+float64(in.offHeap))*gf, heapMinimum*gf)
	g2 := target / heapMinimum * 100
	paced := g2
	if h > 0 {
		paced = min((target-live)/h*100, g2)
	}
	return int(min(max(math.Round(paced), float64(g)), math.MaxInt32))
}

// pacedLimit returns the memory limit for the Go runtime that keeps it
// plus x off-heap bytes within the program's limit l, not below minLimit
// (nor above l).
func pacedLimit(l int64, x uint64, minLimit int64) int64 {
	if l == math.MaxInt64 {
		return l // no limit: none to share
	}
	floor := min(minLimit, l)
	if x >= uint64(l-floor) {
		return floor
	}
	return l - int64(x)
}

// holdFalls is how long the pacer paces on a count after a lower one: it
// acts on a fall of the count only once the fall has lasted this long.
// The kernel's count dips while the Go heap grows into fresh pages it
// has not written yet (the runtime counts them at once, the kernel once
// they are touched), which happens in the very cycles after the pacer
// raised the heap goal; a dip believed at once would lower the goal and
// bring back the collections the pacer exists to save. Holding a count
// never raises the memory limit above what the higher count allows.
const holdFalls = time.Second

// peakWindow keeps the highest count in each of the last few slices of
// holdFalls, so that max is the highest count of the last holdFalls (to
// one slice). The zero value is empty.
type peakWindow struct {
	slot [peakSlots]struct {
		at   int64 // the slice of time, in units of holdFalls/peakSlots
		peak uint64
	}
}

const peakSlots = 8

func (w *peakWindow) add(now time.Time, x uint64) {
	at := now.UnixNano() / int64(holdFalls/peakSlots)
	s := &w.slot[at%peakSlots]
	if s.at != at {
		s.at, s.peak = at, 0
	}
	s.peak = max(s.peak, x)
}

func (w *peakWindow) max(now time.Time) uint64 {
	at := now.UnixNano() / int64(holdFalls/peakSlots)
	var m uint64
	for _, s := range w.slot {
		if at-s.at < peakSlots {
			m = max(m, s.peak)
		}
	}
	return m
}
