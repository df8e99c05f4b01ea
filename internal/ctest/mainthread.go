// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package ctest

import "testing"

// mainThread carries work to the process's main thread.
var mainThread = make(chan func())

// RunOnMainThread is a TestMain body for tests that need the process's
// main thread, where glibc's malloc uses the main arena, the one that grows
// with brk (other threads get arenas in mmapped heaps): it runs the tests
// on another goroutine and serves OnMainThread until they end, returning
// their exit code. The test package must keep its main goroutine on the
// main thread from the start, with
//
//	func init() { runtime.LockOSThread() }
//
// (the runtime runs package initialisation on the main thread, and a lock
// taken there stays).
func RunOnMainThread(m *testing.M) int {
	done := make(chan int)
	go func() { done <- m.Run() }()
	for {
		select {
		case f := <-mainThread:
			f()
		case code := <-done:
			return code
		}
	}
}

// OnMainThread runs f on the process's main thread, in a test binary whose
// TestMain is RunOnMainThread.
func OnMainThread(f func()) {
	done := make(chan struct{})
	mainThread <- func() { defer close(done); f() }
	<-done
}
