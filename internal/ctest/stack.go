// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package ctest

import (
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
// test for a call that used no stack (it was not measured) or more than
// StackLimit.
func (m *StackMeter) Check(t *testing.T) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, len(m.worst))
	for name := range m.worst {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		used := m.worst[name]
		t.Logf("%-40s %5d bytes of stack", name, used)
		if used == 0 || used > StackLimit {
			t.Errorf("%s used %d bytes of stack; the limit is %d", name, used, StackLimit)
		}
	}
}
