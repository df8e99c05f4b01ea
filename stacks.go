// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import (
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/cockroachdb/swiss"
)

// stack is a captured stack, on the goroutine's stack until it is
// interned under c.mu.
type stack struct {
	pcs [maxStackDepth]uintptr
	n   int
}

// callers captures into st the stack of the caller of the exported
// Checked method that calls it, which must call it directly.
func (c *Checked) callers(st *stack) {
	// Skip runtime.Callers, callers and the Checked method.
	st.n = runtime.Callers(3, st.pcs[:c.depth])
}

// stackID names an interned stack; 0 is none.
type stackID uint32

// stackTable interns stacks: each distinct one is stored once, so that
// recording a stack per block costs a hash and a lookup, and no
// allocation once the call sites have been seen.
type stackTable struct {
	ids    swiss.Map[uint64, stackID] // hash (probed linearly on collision) -> id
	frames [][]uintptr                // id-1 -> program counters
}

func (t *stackTable) intern(pcs []uintptr) stackID {
	if len(pcs) == 0 {
		return 0
	}
	h := uint64(14695981039346656037) // FNV-1a over the words
	for _, pc := range pcs {
		h = (h ^ uint64(pc)) * 1099511628211
	}
	for ; ; h++ {
		id, ok := t.ids.Get(h)
		if !ok {
			break
		}
		if slices.Equal(t.frames[id-1], pcs) {
			return id
		}
	}
	t.frames = append(t.frames, slices.Clone(pcs))
	id := stackID(len(t.frames))
	t.ids.Put(h, id)
	return id
}

// format renders a stack as a panic does: function, then file:line.
func (t *stackTable) format(id stackID) string {
	if id == 0 {
		return ""
	}
	var b strings.Builder
	frames := runtime.CallersFrames(t.frames[id-1])
	for {
		f, more := frames.Next()
		fmt.Fprintf(&b, "\t%s\n\t\t%s:%d\n", f.Function, f.File, f.Line)
		if !more {
			break
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}
