// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/nalloc/nalloc"
)

// xmalloc, after mimalloc-bench's xmalloc-test (Lever and Boreham's
// test from "malloc() Performance in a Multithreaded Linux Environment",
// as mimalloc-bench runs it: -s 64): producer threads allocate batches of
// 4096 blocks of 64 B and write each; consumer threads, other threads,
// take the batches from a queue of at most 100 and free every block. Every
// block is freed on another thread than the one that allocated it, as
// happens all the time in Go, where goroutines move between threads.
//
// Two changes from the original, the same on the C side: each producer
// makes a fixed number of batches instead of running for 5 seconds, and
// the arrays that carry a batch's pointers are recycled instead of
// allocated with malloc, so that only the 64 B blocks go through the
// allocator and the Go side keeps its pointers in Go memory.
var xmalloc = &workload{
	name: "xmalloc",
	desc: "mimalloc-bench's xmalloc-test: N/2 producer threads allocate 64 B blocks, N/2 consumer threads free them",
	rows: func(p *params) (r []rowKey) {
		for _, n := range p.XThreadCounts {
			r = append(r, rowKey{threadCase(n), mFreesPerSec})
		}
		for _, n := range p.XThreadCounts {
			r = append(r, rowKey{threadCase(n), mPeakRSS})
		}
		return r
	},
	run:    runXmalloc,
	notFor: notForArena("blocks freed one by one on other threads would never be reclaimed (and an arena is for one goroutine)"),
	cArgs: func(p *params) []string {
		return []string{"threads=" + joinInts(p.XThreadCounts), "size=" + strconv.Itoa(int(p.XObjectSize)),
			"batch=" + strconv.Itoa(p.XBatch), "batches=" + strconv.Itoa(p.XBatches), "queue=" + strconv.Itoa(p.XQueue)}
	},
}

type xmallocParams struct {
	XThreadCounts []int   `json:"xmalloc_thread_counts"` // threads: half producers, half consumers
	XObjectSize   uintptr `json:"xmalloc_object_size"`   // 64, as mimalloc-bench runs it
	XBatch        int     `json:"xmalloc_batch"`         // blocks per batch (4096)
	XBatches      int     `json:"xmalloc_batches"`       // batches each producer makes
	XQueue        int     `json:"xmalloc_queue"`         // batches in the queue at most (100)
}

// xmallocParamsFor takes the even thread counts: a producer and a
// consumer per pair. -threads 1 still gets one pair.
func xmallocParamsFor(quick bool, counts []int) xmallocParams {
	p := xmallocParams{XObjectSize: 64, XBatch: 4096, XBatches: 100, XQueue: 100}
	if quick {
		p.XBatches = 25
	}
	for _, n := range counts {
		if n%2 == 0 {
			p.XThreadCounts = append(p.XThreadCounts, n)
		}
	}
	if len(p.XThreadCounts) == 0 {
		p.XThreadCounts = []int{2}
	}
	return p
}

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

// xbatch carries a batch's blocks from a producer to a consumer. It is
// Go memory, so the pointers in it keep the blocks of the make peer alive
// until the consumer drops them (the C side's batches are plain arrays).
type xbatch struct{ blocks []unsafe.Pointer }

func runXmalloc(e *runEnv) error {
	l := nalloc.Layout{Size: e.p.XObjectSize, Align: blockAlign}
	fill := min(int(l.Size), len(fillRows[0]))
	for _, n := range e.p.XThreadCounts {
		workers := n / 2
		queue := newBatchStack(e.p.XQueue)
		// Enough arrays that a producer never waits for one: a full
		// queue, plus one in the hands of each thread.
		spare := newBatchStack(e.p.XQueue + n)
		for range spare.limit {
			spare.push(&xbatch{blocks: make([]unsafe.Pointer, e.p.XBatch)})
		}
		var producing atomic.Int32
		producing.Store(int32(workers))
		resetPeakRSS()
		// Every thread uses the one allocator the child opened: a block
		// is freed into the allocator it came from, whichever thread
		// frees it (e.open would give the "go" allocator a GoHeap per
		// thread).
		a := e.a
		dt, err := onThreads(n, func(i int, clock *threadClock) error {
			clock.ready()
			if i < workers { // a producer
				defer func() {
					if producing.Add(-1) == 0 { // the last one out: nothing more will be pushed
						queue.close()
					}
				}()
				for range e.p.XBatches {
					b := spare.pop()
					for j := range b.blocks {
						p, err := a.Allocate(l)
						if err != nil {
							clear(b.blocks[:j])
							return err
						}
						copy(unsafe.Slice((*byte)(p), fill), fillRows[j%256][:fill])
						b.blocks[j] = p
					}
					queue.push(b)
				}
				return nil
			}
			for b := queue.pop(); b != nil; b = queue.pop() { // a consumer, until the producers are done
				for j, p := range b.blocks {
					a.Deallocate(p, l)
					b.blocks[j] = nil
				}
				spare.push(b)
			}
			return nil
		})
		if err != nil {
			return err
		}
		e.put(threadCase(n), mFreesPerSec, float64(workers*e.p.XBatches*e.p.XBatch)/dt.Seconds())
		e.put(threadCase(n), mPeakRSS, e.roundPeak())
	}
	return nil
}

// batchStack is xmalloc-test's queue: a LIFO of batches under a mutex,
// with conditions for "not empty" and "not full" (the C side's struct
// stack), closed once the producers are done. Safe for concurrent use.
type batchStack struct {
	mu       sync.Mutex
	notEmpty sync.Cond
	notFull  sync.Cond
	items    []*xbatch
	limit    int
	closed   bool
}

func newBatchStack(limit int) *batchStack {
	s := &batchStack{limit: limit, items: make([]*xbatch, 0, limit)}
	s.notEmpty.L, s.notFull.L = &s.mu, &s.mu
	return s
}

// push adds b, waiting while the stack is full.
func (s *batchStack) push(b *xbatch) {
	s.mu.Lock()
	for len(s.items) >= s.limit {
		s.notFull.Wait()
	}
	s.items = append(s.items, b)
	s.notEmpty.Signal()
	s.mu.Unlock()
}

// pop takes the batch pushed last, waiting while the stack is empty; nil
// once it is closed and empty.
func (s *batchStack) pop() *xbatch {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.items) == 0 && !s.closed {
		s.notEmpty.Wait()
	}
	if len(s.items) == 0 {
		return nil
	}
	b := s.items[len(s.items)-1]
	s.items = s.items[:len(s.items)-1]
	s.notFull.Signal()
	return b
}

func (s *batchStack) close() {
	s.mu.Lock()
	s.closed = true
	s.notEmpty.Broadcast()
	s.mu.Unlock()
}
