// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package workload

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bench/internal/metric"
	"github.com/nalloc/nalloc/bench/internal/peer"
	"github.com/nalloc/nalloc/internal/native"
)

func init() { register(xmalloc) }

// xmalloc is mimalloc-bench's xmalloc-test (Lever and Boreham's test from
// "malloc() Performance in a Multithreaded Linux Environment") as
// mimalloc-bench runs it, xmalloc-test -w W -t T -s 64: W producer
// threads allocate batches of 4096 blocks of 64 B, writing each, and push
// them on a LIFO of at most 100 batches; W consumer threads pop the
// batches and free every block, and the batch, on their own thread. A
// batch (an array of 4096 block addresses) is allocated by its producer
// through the allocator under test and freed by its consumer, so every
// batch is one more cross-thread free of a medium block (32 KiB), as in
// the original. The run lasts T seconds: then every thread stops, and the
// figure is the blocks the consumers freed over the wall time from the
// start to the last thread's end. Every block is freed on another thread
// than the one that allocated it, as happens all the time in Go, where
// goroutines move between threads.
//
// Differences from the original, the same on the C side, measured in
// bench/README.md: T is -xmalloc's 0.5 s (-quick: 0.1 s) per -w instead
// of mimalloc-bench's 5 s, so that 5 runs of every -w on every allocator
// fit in the shoot-out; the queue is an array of 100 batches under the
// lock rather than a list linked through the batches (the same LIFO
// order, lock and limits); the threads start together once all exist.
// And the library is opened with dlopen, as nalloc opens it, where
// mimalloc-bench preloads it as the process's malloc: that alone makes
// jemalloc several times slower here (bench/README.md).
//
// A batch holds block addresses, not Go pointers (uintptr), so it can
// live in the allocator's memory. The make peer is the exception: its
// blocks live only while a Go pointer points at them, so its batch is what
// a Go program would use, a []unsafe.Pointer from make, dropped by the
// consumer.
var xmalloc = &Workload{
	order: 70,
	Name:  "xmalloc",
	Desc:  "mimalloc-bench's xmalloc-test -w W -s 64: W producer threads allocate 64 B blocks in batches, W consumer threads free them",
	Rows: func(p *Params) []RowKey {
		return rowsByCount(p.XWorkers, workersCase, metric.FreesPerSec, metric.PeakRSS)
	},
	Run:      runXmalloc,
	Threaded: true,
	Panels: []Panel{
		{metric.FreesPerSec, "xmalloc: cross-thread frees (64 B)", "xmalloc-test -w: producers, and as many consumers", "million frees per second", "1/s", 1e6, true},
		{metric.PeakRSS, "xmalloc: peak RSS by -w", "-w", "MiB", "B", 1 << 20, false},
	},
	NotFor: notForCrossThread,
	CArgs: func(p *Params) []string {
		return []string{"workers=" + joinInts(p.XWorkers), "size=" + strconv.Itoa(int(p.XObjectSize)),
			"batch=" + strconv.Itoa(p.XBatch), "queue=" + strconv.Itoa(p.XQueue),
			"ms=" + strconv.Itoa(int(p.XSeconds*1000))}
	},
}

type xmallocParams struct {
	XWorkers    []int   `json:"xmalloc_workers"`     // xmalloc-test's -w: producers, and as many consumers
	XObjectSize uintptr `json:"xmalloc_object_size"` // -s: 64, as mimalloc-bench runs it
	XBatch      int     `json:"xmalloc_batch"`       // blocks per batch (4096)
	XQueue      int     `json:"xmalloc_queue"`       // batches in the queue at most (100)
	XSeconds    float64 `json:"xmalloc_seconds"`     // -t: the run time of each -w
}

// xmallocParamsFor takes -w = n/2 for the even thread counts n, so that
// a case uses n threads; -threads 1 still gets -w 1.
func xmallocParamsFor(quick bool, counts []int) xmallocParams {
	p := xmallocParams{XObjectSize: 64, XBatch: 4096, XQueue: 100, XSeconds: 0.5}
	if quick {
		p.XSeconds = 0.1
	}
	for _, n := range counts {
		if n%2 == 0 {
			p.XWorkers = append(p.XWorkers, n/2)
		}
	}
	if len(p.XWorkers) == 0 {
		p.XWorkers = []int{1}
	}
	return p
}

// workersCase names the case of xmalloc-test's -w w: "w=2" (4 threads).
func workersCase(w int) string { return "w=" + strconv.Itoa(w) }

// fillRows[v] is 128 bytes of v: xmalloc-test writes block i of a batch
// with memset(p, i % 256, min(size, 128)).
var fillRows = func() (r [256][128]byte) {
	for v := range r {
		for j := range r[v] {
			r[v][j] = byte(v)
		}
	}
	return
}()

// xmallocRound is one -w of xmalloc: the allocator, the batches' shape,
// the queue and the stop flag. Its methods are called from every thread.
type xmallocRound struct {
	a     nalloc.Allocator
	l     nalloc.Layout // a block
	bl    nalloc.Layout // a batch: XBatch addresses
	n     int           // blocks per batch
	fill  int           // bytes written per block
	goMem bool          // the make peer: batches are []unsafe.Pointer from make
	queue *batchStack
	done  atomic.Bool
	freed atomic.Int64
}

// newBatch allocates a batch, as the producer's malloc(sizeof(struct
// batch)).
func (x *xmallocRound) newBatch() (unsafe.Pointer, error) {
	if x.goMem {
		return unsafe.Pointer(unsafe.SliceData(make([]unsafe.Pointer, x.n))), nil
	}
	return x.a.Allocate(x.bl)
}

// freeBatch frees the blocks of batch b, the first n of them, and b.
func (x *xmallocRound) freeBatch(b unsafe.Pointer, n int) {
	if x.goMem {
		for j, p := range unsafe.Slice((*unsafe.Pointer)(b), n) {
			x.a.Deallocate(p, x.l)
			unsafe.Slice((*unsafe.Pointer)(b), n)[j] = nil
		}
		return
	}
	for _, p := range unsafe.Slice((*uintptr)(b), n) {
		// The block is kept alive by its allocator, not by the batch:
		// C memory, or the "go" allocator's table.
		x.a.Deallocate(native.Ptr(p), x.l)
	}
	x.a.Deallocate(b, x.bl)
}

// produce is a producer thread: batches until the time is up.
func (x *xmallocRound) produce() error {
	for !x.done.Load() {
		b, err := x.newBatch()
		if err != nil {
			return err
		}
		for j := range x.n {
			p, err := x.a.Allocate(x.l)
			if err != nil {
				x.freeBatch(b, j)
				return err
			}
			copy(unsafe.Slice((*byte)(p), x.fill), fillRows[j%256][:x.fill])
			if x.goMem {
				unsafe.Slice((*unsafe.Pointer)(b), x.n)[j] = p
			} else {
				unsafe.Slice((*uintptr)(b), x.n)[j] = uintptr(p)
			}
		}
		x.queue.push(b, &x.done)
	}
	return nil
}

// consume is a consumer thread: it frees batches until the time is up,
// and counts the blocks, as xmalloc-test's mem_releaser.
func (x *xmallocRound) consume() {
	var freed int64
	for !x.done.Load() {
		if b := x.queue.pop(&x.done); b != nil {
			x.freeBatch(b, x.n)
			freed += int64(x.n)
		}
	}
	x.freed.Add(freed)
}

func runXmalloc(e *Env) error {
	p := e.P.xmallocParams
	for _, w := range p.XWorkers {
		x := &xmallocRound{
			// Every thread uses the one allocator the child opened: a
			// block is freed into the allocator it came from, whichever
			// thread frees it (e.Open would give the "go" allocator a
			// GoHeap per thread).
			a:     e.A,
			l:     nalloc.Layout{Size: p.XObjectSize, Align: blockAlign},
			bl:    nalloc.Layout{Size: uintptr(p.XBatch) * unsafe.Sizeof(uintptr(0)), Align: blockAlign},
			n:     p.XBatch,
			fill:  min(int(p.XObjectSize), len(fillRows[0])),
			queue: newBatchStack(p.XQueue),
		}
		_, x.goMem = nalloc.As[*peer.Make](e.A)
		var timer sync.Once
		ResetPeakRSS()
		dt, err := onThreads(2*w, func(i int, clock *threadClock) error {
			clock.ready()
			timer.Do(func() {
				time.AfterFunc(time.Duration(p.XSeconds*float64(time.Second)), func() {
					x.done.Store(true)
					x.queue.wake()
				})
			})
			if i%2 == 1 {
				err := x.produce()
				if err != nil { // stop the others too
					x.done.Store(true)
					x.queue.wake()
				}
				return err
			}
			x.consume()
			return nil
		})
		// What is left in the queue is freed off the clock, uncounted,
		// as xmalloc-test's main frees it.
		for b := x.queue.drain(); b != nil; b = x.queue.drain() {
			x.freeBatch(b, x.n)
		}
		if err != nil {
			return err
		}
		e.Put(workersCase(w), metric.FreesPerSec, float64(x.freed.Load())/dt.Seconds())
		e.Put(workersCase(w), metric.PeakRSS, e.RoundPeak())
	}
	return nil
}

// batchStack is xmalloc-test's queue: a LIFO of batches under a mutex,
// with conditions for "not empty" and "not full" (the C side's struct
// stack). Once the time is up (done), push no longer waits for room and
// pop no longer waits for a batch, as in the original. Safe for
// concurrent use.
type batchStack struct {
	mu       sync.Mutex
	notEmpty sync.Cond
	notFull  sync.Cond
	items    []unsafe.Pointer
	limit    int
}

func newBatchStack(limit int) *batchStack {
	s := &batchStack{limit: limit, items: make([]unsafe.Pointer, 0, limit)}
	s.notEmpty.L, s.notFull.L = &s.mu, &s.mu
	return s
}

// push adds b, waiting while the stack is full and the time is not up.
func (s *batchStack) push(b unsafe.Pointer, done *atomic.Bool) {
	s.mu.Lock()
	for len(s.items) >= s.limit && !done.Load() {
		s.notFull.Wait()
	}
	s.items = append(s.items, b)
	s.notEmpty.Signal()
	s.mu.Unlock()
}

// pop takes the batch pushed last, waiting while the stack is empty and
// the time is not up; nil if the time is up and it is empty.
func (s *batchStack) pop(done *atomic.Bool) unsafe.Pointer {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.items) == 0 && !done.Load() {
		s.notEmpty.Wait()
	}
	return s.take()
}

// drain takes a batch without waiting, or nil.
func (s *batchStack) drain() unsafe.Pointer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.take()
}

func (s *batchStack) take() unsafe.Pointer {
	if len(s.items) == 0 {
		return nil
	}
	b := s.items[len(s.items)-1]
	s.items[len(s.items)-1] = nil
	s.items = s.items[:len(s.items)-1]
	s.notFull.Signal()
	return b
}

// wake wakes every waiting thread, once the time is up.
func (s *batchStack) wake() {
	s.mu.Lock()
	s.notEmpty.Broadcast()
	s.notFull.Broadcast()
	s.mu.Unlock()
}
