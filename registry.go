// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/nalloc/nalloc/internal/backends"
)

// registry maps allocator names to their open functions, in the manner of
// database/sql's drivers.
var registry struct {
	sync.RWMutex
	open map[string]func() (Allocator, error)
}

// Register makes an allocator available to Open under name. Backend
// packages call it from init; so can a program, for an Allocator of its
// own. It panics if name is empty, open is nil, or name is already
// registered: these are mistakes in the program, not in its input.
func Register(name string, open func() (Allocator, error)) {
	if name == "" {
		panic("nalloc: Register with an empty name")
	}
	if open == nil {
		panic("nalloc: Register of " + name + " with a nil open function")
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.open[name]; dup {
		panic("nalloc: Register called twice for " + name)
	}
	if registry.open == nil {
		registry.open = make(map[string]func() (Allocator, error))
	}
	registry.open[name] = open
}

// Open returns the allocator registered under name: "go" (always there),
// "glibc", "jemalloc", "mimalloc", "tcmalloc", "tbbmalloc" and "bump"
// when their packages are imported (github.com/nalloc/nalloc/all imports
// them all), or any name a program registered. Native backends return
// one shared, goroutine-safe allocator per process; "go" and "bump"
// return a new one on each call.
//
// An unknown name gets an error wrapping ErrUnknownAllocator that lists the
// registered names and, for one of this module's backends, the import
// that registers it, or for a typo the nearest name. A backend that
// cannot start returns its own error: ErrLibraryNotFound for a missing
// library, ErrUnsupported where it cannot run on this platform.
func Open(name string) (Allocator, error) {
	registry.RLock()
	open := registry.open[name]
	registry.RUnlock()
	if open != nil {
		return open()
	}
	return nil, unknownAllocator(name)
}

// unknownAllocator is Open's error for a name with nothing registered,
// on one line: for one of this module's backends, the import that
// registers it; for any other name, the nearest known name if one is
// close (a typo); and the names that are registered.
func unknownAllocator(name string) error {
	registered := Names()
	if slices.Contains(backends.Names, name) {
		return fmt.Errorf("%w %q: its package is not linked in: import _ %q (registered: %s)",
			ErrUnknownAllocator, name, backends.ImportPath(name), strings.Join(registered, ", "))
	}
	if near := nearest(name, append(registered, backends.Names...)); near != "" {
		return fmt.Errorf("%w %q: did you mean %q? (registered: %s)",
			ErrUnknownAllocator, name, near, strings.Join(registered, ", "))
	}
	return fmt.Errorf("%w %q (registered: %s)", ErrUnknownAllocator, name, strings.Join(registered, ", "))
}

// nearest returns the candidate closest to name by edit distance, if it
// is within a third of name's length (at least 1), or "".
func nearest(name string, candidates []string) string {
	best, bestD := "", max(len(name)/3, 1)+1
	for _, c := range candidates {
		if d := editDistance(name, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	row := make([]int, len(b)+1)
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(a); i++ {
		diag := row[0]
		row[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			diag, row[j] = row[j], min(row[j]+1, row[j-1]+1, diag+cost)
		}
	}
	return row[len(b)]
}

// Names returns the registered allocator names, sorted.
func Names() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.open))
	for name := range registry.open {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
