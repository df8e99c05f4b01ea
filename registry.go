// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import (
	"fmt"
	"slices"
	"strings"
	"sync"
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
// "glibc", "jemalloc", "mimalloc" and "bump" when their packages are
// imported (github.com/nalloc/nalloc/all imports them all), or any name a
// program registered. Native backends return one shared, goroutine-safe
// allocator per process; "go" and "bump" return a new one on each call.
//
// An unknown name gets an error wrapping ErrUnknownAllocator that lists the
// registered names, or, for one of this module's backends, the import that
// registers it. A backend that cannot start (a missing library) returns
// its own error, wrapping ErrLibraryNotFound.
func Open(name string) (Allocator, error) {
	registry.RLock()
	open := registry.open[name]
	registry.RUnlock()
	if open != nil {
		return open()
	}
	return nil, unknownAllocator(name)
}

// unknownAllocator is Open's error for a name with nothing registered: the
// names that are, and how a backend gets registered. This module's
// backends follow a convention, each in the package named after it, so
// the error can name the import without a list of backends here.
func unknownAllocator(name string) error {
	return fmt.Errorf("%w %q (registered: %s); a backend registers itself when its package is linked in: "+
		"for nalloc's own, add\n\timport _ \"github.com/nalloc/nalloc/%s\"\n"+
		"(or _ \"github.com/nalloc/nalloc/all\" for every backend)",
		ErrUnknownAllocator, name, strings.Join(Names(), ", "), name)
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
