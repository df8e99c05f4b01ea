// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import (
	"fmt"
	"unsafe"
)

// Wrapper is implemented by allocators that pass every call on to
// another Allocator (Checked, Counting, Verbose, Profiled): Unwrap returns
// the allocator it wraps, as errors.Unwrap does for errors.
type Wrapper interface {
	Unwrap() Allocator
}

// As finds the first allocator in a's chain of wrappers (a, then what it
// wraps, and so on, through Wrapper) that implements T, as errors.As
// finds an error, and reports whether there was one. It is how a
// capability (StatsReporter, Purger, Tuner, Native, UsableSizer, or a
// backend's own type) is found behind wrappers:
//
//	if n, ok := nalloc.As[nalloc.Native](a); ok {
//		fmt.Println(n.Library(), n.Version())
//	}
//
// Wrappers implement none of the capabilities' methods: they are found
// through Unwrap, so a wrapper has a capability exactly when what it
// wraps has it, and reports the wrapped allocator's own figures.
func As[T any](a Allocator) (T, bool) {
	for a != nil {
		if t, ok := a.(T); ok {
			return t, true
		}
		w, ok := a.(Wrapper)
		if !ok {
			break
		}
		a = w.Unwrap()
	}
	var zero T
	return zero, false
}

// StatsOf returns the Stats of the first allocator in a's chain of
// wrappers that reports them (see As), or an error wrapping
// ErrUnsupported if none does.
func StatsOf(a Allocator) (Stats, error) {
	if sr, ok := As[StatsReporter](a); ok {
		return sr.Stats()
	}
	return Stats{}, unsupported(a, "Stats")
}

// Purge has the first allocator in a's chain of wrappers that can give
// free memory back to the operating system do so (see Purger), or returns
// an error wrapping ErrUnsupported if none can.
func Purge(a Allocator) error {
	if p, ok := As[Purger](a); ok {
		return p.Purge()
	}
	return unsupported(a, "Purge")
}

// Tune changes a setting of the first allocator in a's chain of wrappers
// that has settings (see Tuner), or returns an error wrapping
// ErrUnsupported if none has.
func Tune(a Allocator, name, value string) error {
	if t, ok := As[Tuner](a); ok {
		return t.Tune(name, value)
	}
	return unsupported(a, "Tune")
}

// UsableSize returns the usable size of the block at p as the first
// allocator in a's chain of wrappers that can tell reports it (see
// UsableSizer), or 0 if none can: 0 is UsableSizer's "cannot tell". A
// Checked in the chain that did not hand out p answers 0 itself: a
// stray pointer is never passed on.
func UsableSize(a Allocator, p unsafe.Pointer) uintptr {
	for a != nil {
		if c, ok := a.(*Checked); ok && !c.isLive(p) {
			return 0
		}
		if us, ok := a.(UsableSizer); ok {
			return us.UsableSize(p)
		}
		w, ok := a.(Wrapper)
		if !ok {
			break
		}
		a = w.Unwrap()
	}
	return 0
}

// has reports whether a's chain of wrappers has a T (see As).
func has[T any](a Allocator) bool {
	_, ok := As[T](a)
	return ok
}

// unsupported is the error of a capability that a's chain lacks.
func unsupported(a Allocator, capability string) error {
	return fmt.Errorf("%w: %s by %T", ErrUnsupported, capability, a)
}
