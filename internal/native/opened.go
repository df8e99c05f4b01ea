// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package native

import "sync"

// opened keeps the one value per library path that a backend hands out:
// the first call for a path builds it with open, later calls return the
// same one. A failed open is not kept, so a later call tries again. The
// zero value is ready to use; an opened is safe for concurrent use and
// must not be copied.
type opened[T any] struct {
	mu     sync.Mutex
	byPath map[string]T
}

// Get returns the value for path, building it with open(path) the first
// time. open runs with the opened locked: two goroutines opening the same
// library never load it twice.
func (o *opened[T]) Get(path string, open func(path string) (T, error)) (T, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if v, ok := o.byPath[path]; ok {
		return v, nil
	}
	v, err := open(path)
	if err != nil {
		var zero T
		return zero, err
	}
	if o.byPath == nil {
		o.byPath = make(map[string]T)
	}
	o.byPath[path] = v
	return v, nil
}
