// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package mimalloc

// HeapWithEnd is WithHeap for tests whose allocator must outlive a
// function (the conformance suite): it returns a heap owned by the
// calling goroutine, locked to its thread, and end, which destroys the
// heap if it is still open and unlocks the thread. end must run on the
// same goroutine.
func HeapWithEnd(a *Allocator) (h *Heap, end func() error, err error) {
	h, err = a.newHeap()
	if err != nil {
		return nil, nil, err
	}
	return h, h.end, nil
}
