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

// backendPackages names the package that registers each of this module's
// allocators, so that Open can say which import is missing.
var backendPackages = map[string]string{
	"glibc":    "github.com/nalloc/nalloc/glibc",
	"jemalloc": "github.com/nalloc/nalloc/jemalloc",
	"mimalloc": "github.com/nalloc/nalloc/mimalloc",
	"bump":     "github.com/nalloc/nalloc/bump",
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

// unknownAllocator is Open's error for a name with nothing registered: for
// one of this module's backends, the import that registers it; for any
// other name, the names that are registered.
func unknownAllocator(name string) error {
	if pkg, ok := backendPackages[name]; ok {
		return fmt.Errorf("%w %q: its package is not linked in; add\n\timport _ %q\n"+
			"(or _ \"github.com/nalloc/nalloc/all\" for every backend)", ErrUnknownAllocator, name, pkg)
	}
	return fmt.Errorf("%w %q (registered: %s)", ErrUnknownAllocator, name, strings.Join(Names(), ", "))
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
