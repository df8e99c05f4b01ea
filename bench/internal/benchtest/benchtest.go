// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package benchtest holds the allocators that exist only in the
// shoot-out's test binaries (and so in their children), to drive paths
// that no real backend takes on demand: "test-arena", an arena whose
// Reset frees everything and whose Deallocate frees nothing, and
// "test-tuner", an allocator with settings (a nalloc.Tuner) that can give
// memory back (a nalloc.Purger); and CLibraries, the libraries the tests
// of the C side and the cgo peer run against.
//
// Importing the package registers both, once per binary, so that test
// packages that share them cannot register a name twice. It is for
// _test.go files only: a command that imported it would offer the fakes
// as columns.
package benchtest

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bench/internal/metric"
	"github.com/nalloc/nalloc/internal/native"
)

func init() {
	nalloc.Register("test-arena", func() (nalloc.Allocator, error) { return &Arena{}, nil })
	nalloc.Register("test-tuner", func() (nalloc.Allocator, error) { return TheTuner, nil })
}

// Arena is the test-arena allocator, the smallest bump arena: one Go-heap
// chunk per 1 MiB, reused after Reset. nalloc.Open("test-arena") returns
// a new one on each call. The zero value is an empty arena, ready to use;
// it is not safe for concurrent use.
type Arena struct {
	chunks [][]byte
	cur    int // chunk in use
	off    uintptr
	resets int
}

func (a *Arena) Allocate(l nalloc.Layout) (unsafe.Pointer, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	const chunk = 1 << 20
	if l.Size+l.Align > chunk {
		return nil, nalloc.OutOfMemory("test-arena", l)
	}
	for {
		if a.cur < len(a.chunks) {
			base := uintptr(unsafe.Pointer(&a.chunks[a.cur][0]))
			start := (base + a.off + l.Align - 1) &^ (l.Align - 1)
			if start+l.Size <= base+chunk {
				a.off = start + l.Size - base
				return unsafe.Add(unsafe.Pointer(&a.chunks[a.cur][0]), start-base), nil
			}
			a.cur++
			a.off = 0
			continue
		}
		a.chunks = append(a.chunks, make([]byte, chunk))
	}
}

func (a *Arena) Deallocate(unsafe.Pointer, nalloc.Layout) {}
func (a *Arena) Grow(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	return nalloc.Reallocate(a, p, old, new)
}
func (a *Arena) Shrink(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	return p, nalloc.ValidateShrink(old, new)
}
func (a *Arena) Reset() { a.cur, a.off, a.resets = 0, 0, a.resets+1 }

// Resets returns how many times Reset was called.
func (a *Arena) Resets() int { return a.resets }

// Tuner is the test-tuner allocator: the Go heap, with one setting,
// "threshold", that takes a size, and a Purge that counts its calls. It
// is safe for concurrent use and must not be copied; the one there is,
// TheTuner, is what nalloc.Open("test-tuner") returns.
type Tuner struct {
	*nalloc.GoHeap
	mu        sync.Mutex
	threshold int64
	purges    int
}

// TheTuner is the test-tuner allocator.
var TheTuner = &Tuner{GoHeap: nalloc.NewGoHeap()}

func (t *Tuner) Tune(name, value string) error {
	if name != "threshold" {
		return fmt.Errorf("test-tuner: unknown setting %q (known: threshold)", name)
	}
	v, err := metric.ParseSize(value)
	if err != nil {
		return fmt.Errorf("test-tuner: threshold: %w", err)
	}
	t.mu.Lock()
	t.threshold = v
	t.mu.Unlock()
	return nil
}

func (t *Tuner) Purge() error {
	t.mu.Lock()
	t.purges++
	t.mu.Unlock()
	return nil
}

// Threshold returns the threshold setting last tuned, 0 before any.
func (t *Tuner) Threshold() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.threshold
}

// Purges returns how many times Purge was called.
func (t *Tuner) Purges() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.purges
}

// A CLibrary is a library the C side and the cgo peer can call: its
// first Linux soname, and the plain pair its backend declares.
type CLibrary struct {
	Lib  string
	Pair native.Pair
}

// CLibraries returns the libraries the C and cgo sides are tested
// against, by backend: every registered backend's with a Linux library,
// through the plain pair it declares (libsystem, macOS's malloc on a
// zone, has neither).
func CLibraries() map[string]CLibrary {
	libs := map[string]CLibrary{}
	for _, s := range native.Specs() {
		if len(s.Sonames) == 0 || s.Pair.Kind != "plain" {
			continue
		}
		libs[s.Name] = CLibrary{s.Sonames[0], s.Pair}
	}
	return libs
}
