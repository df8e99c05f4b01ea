// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package workload

import (
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/nalloc/nalloc/bench/internal/metric"
)

func init() { register(glibcThread) }

// glibc-thread, after glibc's benchtests and mimalloc-bench: the
// glibc-simple cycle at 128 B on N goroutines, each locked to its OS
// thread.
var glibcThread = &Workload{
	order:    20,
	Name:     "glibc-thread",
	Desc:     "the glibc-simple cycle at 128 B on N goroutines, each locked to its OS thread",
	Rows:     func(p *Params) []RowKey { return scalingRows(p.ThreadCounts, metric.PairsPerSec) },
	Run:      runThread,
	Threaded: true,
	Panels:   []Panel{{metric.PairsPerSec, "glibc-thread: throughput by threads (128 B)", "threads (goroutines locked to OS threads)", "million pairs per second", "1/s", 1e6, true}},
	CArgs: func(p *Params) []string {
		return []string{"threads=" + joinInts(p.ThreadCounts), "reps=" + strconv.Itoa(p.ThreadReps),
			"size=" + strconv.Itoa(int(p.ThreadSize))}
	},
}

type threadParams struct {
	ThreadSize   uintptr `json:"thread_size"`   // block size
	ThreadCounts []int   `json:"thread_counts"` // goroutines (threads) per measurement
	ThreadReps   int     `json:"thread_reps"`   // cycles of 1600 blocks per thread
}

func threadParamsFor(quick bool, counts []int) threadParams {
	p := threadParams{ThreadSize: 128, ThreadCounts: counts, ThreadReps: 100}
	if quick {
		p.ThreadReps = 20
	}
	return p
}

// scalingRows are the rows of a workload run on each of counts threads:
// its metric for each count, then the scaling against the first count
// for the others.
func scalingRows(counts []int, m string) (r []RowKey) {
	for _, n := range counts {
		r = append(r, RowKey{threadCase(n), m})
	}
	for _, n := range counts[1:] {
		r = append(r, RowKey{threadCase(n), metric.Scaling})
	}
	return r
}

func runThread(e *Env) error {
	var base float64
	for k, n := range e.P.ThreadCounts {
		rate, err := threadRound(e, n)
		if err != nil {
			return err
		}
		if k == 0 {
			base = rate
		}
		e.Put(threadCase(n), metric.PairsPerSec, rate)
		if k > 0 {
			e.Put(threadCase(n), metric.Scaling, rate/base)
		}
	}
	return nil
}

// threadRound runs n goroutines, each locked to its own OS thread with
// its own handle on the allocator (e.Open), and returns the pairs per
// second over all of them, from the start signal to the last one done.
func threadRound(e *Env, n int) (float64, error) {
	dt, err := onThreads(n, func(_ int, clock *threadClock) error {
		a, err := e.Open()
		if err != nil {
			clock.ready()
			return err
		}
		c := newCycler(a)
		err = c.cycle(e.P.ThreadSize, nil) // warm this thread's caches
		clock.ready()
		for r := 0; err == nil && r < e.P.ThreadReps; r++ {
			err = c.cycle(e.P.ThreadSize, nil)
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	return float64(n*e.P.ThreadReps*cycleBlocks) / dt.Seconds(), nil
}

// onThreads runs work(i, clock) for i in [0, n), each on a goroutine
// locked to an OS thread of its own, and returns the wall time from the
// moment all of them are ready to the moment the last one stops, and the
// first error. A work function calls clock.ready exactly once, when it
// has done what should not be timed (opening, warming up), and ready
// blocks until all n have: the timed parts start together. It may call
// clock.stop when its timed part is over, before cleaning up; if it does
// not, its end is when it returns.
//
// The threads are never unlocked: each exits with its goroutine, so every
// round starts on fresh threads, as the C side's pthreads do.
func onThreads(n int, work func(i int, clock *threadClock) error) (time.Duration, error) {
	var arrived, done sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	clocks := make([]threadClock, n)
	arrived.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			runtime.LockOSThread()
			c := &clocks[i]
			c.arrived, c.start = &arrived, start
			errs[i] = work(i, c)
			c.stop()
		}()
	}
	arrived.Wait()
	t0 := time.Now()
	close(start)
	done.Wait()
	var dt time.Duration
	for i := range clocks {
		dt = max(dt, clocks[i].end.Sub(t0))
	}
	for _, err := range errs {
		if err != nil {
			return dt, err
		}
	}
	return dt, nil
}

// threadClock is one thread's part of onThreads's clock.
type threadClock struct {
	arrived *sync.WaitGroup
	start   chan struct{}
	end     time.Time
}

// ready says that the thread is set up, and waits for the others.
func (c *threadClock) ready() {
	c.arrived.Done()
	<-c.start
}

// stop marks the end of the thread's timed part; only the first call
// counts.
func (c *threadClock) stop() {
	if c.end.IsZero() {
		c.end = time.Now()
	}
}
