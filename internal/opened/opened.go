// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package opened lists the native allocators the process has opened, for
// the GC pacer, which has them give their free memory back (Purge) when
// the process nears its memory limit. internal/native's Backend.Open adds
// each allocator it builds; nothing is ever removed, as a loaded library
// stays loaded. It imports nothing of nalloc's, so that the root package
// can read it while the backends, which import the root package, fill it.
package opened

import "sync"

var list struct {
	sync.Mutex
	all []any
}

// Add lists a, an allocator a backend has just opened.
func Add(a any) {
	list.Lock()
	defer list.Unlock()
	list.all = append(list.all, a)
}

// Append appends every listed allocator to dst, in the order they were
// opened, and returns the extended slice.
func Append(dst []any) []any {
	list.Lock()
	defer list.Unlock()
	return append(dst, list.all...)
}
