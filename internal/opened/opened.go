// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package opened lists the native allocators the process has opened, with
// the fast path of each (ffi.FastMalloc): for the GC pacer, which has them
// give their free memory back (Purge) when the process nears its memory
// limit, and for nalloc.Profiled, which calls the fast path of the
// allocator it wraps itself instead of through the allocator's methods.
// internal/native's Backend.Open adds each allocator it builds; nothing is
// ever removed, as a loaded library stays loaded. It imports nothing of
// nalloc's above internal/ffi, so that the root package can read it while
// the backends, which import the root package, fill it.
package opened

import (
	"sync"

	"github.com/nalloc/nalloc/internal/ffi"
)

var list struct {
	sync.Mutex
	all  []any
	fast []*ffi.FastMalloc // fast[i] is all[i]'s
}

// Add lists a, an allocator a backend has just opened, and fast, its fast
// path, which must stay as it is from now on.
func Add(a any, fast *ffi.FastMalloc) {
	list.Lock()
	defer list.Unlock()
	list.all = append(list.all, a)
	list.fast = append(list.fast, fast)
}

// Append appends every listed allocator to dst, in the order they were
// opened, and returns the extended slice.
func Append(dst []any) []any {
	list.Lock()
	defer list.Unlock()
	return append(dst, list.all...)
}

// FastPath returns the fast path of a, if a is a listed allocator (the
// allocator itself, not a wrapper of one), and nil if not. The list is
// searched rather than kept in a map, because a may be of a type that
// cannot be a map key (a user's struct holding a slice): comparing it with
// the listed allocators, pointers all, only compares types.
func FastPath(a any) *ffi.FastMalloc {
	list.Lock()
	defer list.Unlock()
	for i, o := range list.all {
		if o == a {
			return list.fast[i]
		}
	}
	return nil
}
