// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package ffi

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
)

// Library is a shared library loaded with dlopen. It is never closed: the
// allocators it holds may own memory for the whole life of the process, and
// dlclose of a malloc implementation with live blocks would leave dangling
// code pointers behind.
//
// A Library is immutable and safe for concurrent use.
type Library struct {
	name   string
	handle uintptr
}

// LoadError reports that none of the names given to Load could be opened.
// Attempts holds dlerror's text for each name, in the order tried.
type LoadError struct {
	Attempts []Attempt
}

// Attempt is one dlopen that failed.
type Attempt struct {
	Name string // the name passed to dlopen
	Err  string // dlerror's text
}

func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString("dlopen failed:")
	for i, a := range e.Attempts {
		if i > 0 {
			b.WriteString(";")
		}
		fmt.Fprintf(&b, " %s", a.Err)
	}
	return b.String()
}

// Load opens the first of names that dlopen accepts, with RTLD_NOW (every
// symbol resolved up front, so a broken library fails here and not in the
// middle of an allocation) and RTLD_LOCAL (the library's symbols do not
// interpose on anyone else's malloc). Names are sonames searched the usual
// way or paths. The returned error is a *LoadError.
func Load(names ...string) (*Library, error) {
	if len(names) == 0 {
		return nil, errors.New("ffi: Load needs at least one library name")
	}
	// purego's Dlopen calls dlopen, then dlerror for the text: two C
	// calls, between which the goroutine may move to another thread, and
	// dlerror's text is per thread. Locked, both run on the same thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var le LoadError
	for _, name := range names {
		h, err := dlopen(name)
		if err == nil {
			return &Library{name: name, handle: h}, nil
		}
		le.Attempts = append(le.Attempts, Attempt{Name: name, Err: err.Error()})
	}
	return nil, &le
}

// Name is the name dlopen accepted.
func (l *Library) Name() string { return l.name }

// Symbol returns the address of the named function or variable.
func (l *Library) Symbol(name string) (uintptr, error) {
	runtime.LockOSThread() // dlsym and dlerror on one thread, as in Load
	defer runtime.UnlockOSThread()
	p, err := dlsym(l.handle, name)
	if err != nil {
		return 0, fmt.Errorf("ffi: %s has no symbol %s: %w", l.name, name, err)
	}
	return p, nil
}

// Symbols resolves each name into the matching pointer of out, stopping at
// the first that is missing. It is the usual way a backend fills its table
// of functions.
func (l *Library) Symbols(out ...Sym) error {
	for _, s := range out {
		p, err := l.Symbol(s.Name)
		if err != nil {
			return err
		}
		*s.Addr = p
	}
	return nil
}

// Sym names a symbol and where Symbols stores its address.
type Sym struct {
	Name string
	Addr *uintptr
}
