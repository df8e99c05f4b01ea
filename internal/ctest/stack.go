// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package ctest

import (
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/nalloc/nalloc/internal/ffi"
)

// StackLimit is the most stack a C call may use in the backends' stack
// tests: half of the least system stack the call paths accept on a thread
// (every C call runs on the thread's system stack), so that the figures
// measured leave at least a factor of two for paths the tests did not
// reach.
const StackLimit = ffi.MinSystemStack / 2

// StackMeter measures how much stack C calls take (ffi.StackUse runs each
// on a patterned stack of its own) and keeps the deepest use of each,
// from any number of goroutines: the backends' TestStackUse run a
// library's calls on fresh threads, where a library sets up its
// per-thread state on the first call, with it.
type StackMeter struct {
	mu    sync.Mutex
	worst map[string]uintptr
}

// NewStackMeter returns a StackMeter, or skips the test in a build that
// cannot measure stacks (no assembly: the purego path).
func NewStackMeter(tb testing.TB, probe uintptr) *StackMeter {
	tb.Helper()
	if _, _, ok := ffi.StackUse(probe, 0, 0, 0, 0); !ok {
		tb.Skip("no stack measurement in this build")
	}
	return &StackMeter{worst: map[string]uintptr{}}
}

// Call calls fn(a0, a1, a2, a3) on a measured stack and returns its result,
// recording the stack it used under name.
func (m *StackMeter) Call(name string, fn, a0, a1, a2, a3 uintptr) uintptr {
	r, used, _ := ffi.StackUse(fn, a0, a1, a2, a3)
	m.mu.Lock()
	m.worst[name] = max(m.worst[name], used)
	m.mu.Unlock()
	return r
}

// Check logs the deepest use of each call, sorted by name, and fails the
// test for a call that used more than StackLimit, or none where that
// means it was not measured.
func (m *StackMeter) Check(t *testing.T) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, len(m.worst))
	for name := range m.worst {
		names = append(names, name)
	}
	slices.Sort(names)
	var deepest uintptr
	for _, name := range names {
		used := m.worst[name]
		deepest = max(deepest, used)
		t.Logf("%-40s %5d bytes of stack", name, used)
		// On amd64 a call pushes its return address, so 0 means the call
		// was not measured; on arm64 the return address stays in x30,
		// and a leaf function (jemalloc's malloc fast path) may touch no
		// stack at all.
		if (used == 0 && runtime.GOARCH == "amd64") || used > StackLimit {
			t.Errorf("%s used %d bytes of stack; the limit is %d", name, used, StackLimit)
		}
	}
	if deepest == 0 && len(names) > 0 {
		t.Errorf("no call used any stack: the measurement is broken")
	}
}
