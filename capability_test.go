// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"errors"
	"io"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
)

// capable is bare with every optional capability, each answering with a
// figure no wrapper could make up, and counting the calls it gets.
type capable struct {
	bare
	purges int
	tuned  string
}

var capableStats = nalloc.Stats{Allocated: 1, Active: 2, Resident: 3, Mapped: 4, Retained: 5, Metadata: 6}

func (c *capable) Stats() (nalloc.Stats, error)        { return capableStats, nil }
func (c *capable) Purge() error                        { c.purges++; return nil }
func (c *capable) Tune(name, value string) error       { c.tuned = name + "=" + value; return nil }
func (c *capable) Library() string                     { return "libcapable.so.1" }
func (c *capable) Version() string                     { return "1.2.3" }
func (c *capable) UsableSize(p unsafe.Pointer) uintptr { return 4242 }

// wrappers are the constructors of every wrapper in the package.
var wrappers = map[string]func(nalloc.Allocator) nalloc.Allocator{
	"Checked":  func(a nalloc.Allocator) nalloc.Allocator { return nalloc.NewChecked(a) },
	"Counting": func(a nalloc.Allocator) nalloc.Allocator { return nalloc.NewCounting(a) },
	"Verbose":  func(a nalloc.Allocator) nalloc.Allocator { return nalloc.NewVerbose(a, io.Discard) },
	"Profiled": func(a nalloc.Allocator) nalloc.Allocator { return nalloc.NewProfiled(a) },
	// Two deep: capabilities are found through every layer.
	"Counting(Verbose(Checked))": func(a nalloc.Allocator) nalloc.Allocator {
		return nalloc.NewCounting(nalloc.NewVerbose(nalloc.NewChecked(a), io.Discard))
	},
}

// Each wrapper has each capability exactly when what it wraps has it:
// found through As and the helpers with the wrapped allocator's own
// figures, and reported absent (ErrUnsupported, 0, not found) the same
// way by every wrapper when the wrapped allocator lacks it.
func TestWrapperCapabilities(t *testing.T) {
	l := nalloc.Layout{Size: 100, Align: 8}
	for name, wrap := range wrappers {
		t.Run(name+"/with", func(t *testing.T) {
			inner := &capable{bare: bare{nalloc.NewGoHeap()}}
			w := wrap(inner)
			if u, ok := w.(nalloc.Wrapper); !ok || u.Unwrap() == nil {
				t.Fatalf("%T has no Unwrap", w)
			}
			if s, err := nalloc.StatsOf(w); err != nil || s != capableStats {
				t.Errorf("StatsOf = %+v, %v; want the wrapped allocator's %+v", s, err, capableStats)
			}
			if err := nalloc.Purge(w); err != nil || inner.purges != 1 {
				t.Errorf("Purge = %v with %d purges reaching the allocator, want nil and 1", err, inner.purges)
			}
			if err := nalloc.Tune(w, "x", "1"); err != nil || inner.tuned != "x=1" {
				t.Errorf("Tune = %v, the allocator got %q; want nil and x=1", err, inner.tuned)
			}
			if n, ok := nalloc.As[nalloc.Native](w); !ok || n.Library() != "libcapable.so.1" || n.Version() != "1.2.3" {
				t.Errorf("As[Native] = %v, %v; want the wrapped library", n, ok)
			}
			p, err := w.Allocate(l)
			if err != nil {
				t.Fatal(err)
			}
			if n := nalloc.UsableSize(w, p); n != 4242 {
				t.Errorf("UsableSize = %d, want the wrapped allocator's 4242", n)
			}
			w.Deallocate(p, l)
			if c, ok := nalloc.As[*capable](w); !ok || c != inner {
				t.Errorf("As[*capable] = %p, %v; want the wrapped allocator", c, ok)
			}
		})
		t.Run(name+"/without", func(t *testing.T) {
			w := wrap(bare{nalloc.NewGoHeap()})
			for capName, err := range map[string]error{
				"StatsOf": func() error { _, err := nalloc.StatsOf(w); return err }(),
				"Purge":   nalloc.Purge(w),
				"Tune":    nalloc.Tune(w, "x", "1"),
			} {
				if !errors.Is(err, nalloc.ErrUnsupported) || !errors.Is(err, errors.ErrUnsupported) {
					t.Errorf("%s over an allocator without it = %v, want an error wrapping nalloc.ErrUnsupported and errors.ErrUnsupported", capName, err)
				}
			}
			for capName, ok := range map[string]bool{
				"StatsReporter": hasCap[nalloc.StatsReporter](w),
				"Purger":        hasCap[nalloc.Purger](w),
				"Tuner":         hasCap[nalloc.Tuner](w),
				"Native":        hasCap[nalloc.Native](w),
			} {
				if ok {
					t.Errorf("As[%s] found one in %T over an allocator without it", capName, w)
				}
			}
			p, err := w.Allocate(l)
			if err != nil {
				t.Fatal(err)
			}
			if n := nalloc.UsableSize(w, p); n != 0 {
				t.Errorf("UsableSize over an allocator without it = %d, want 0 (cannot tell)", n)
			}
			w.Deallocate(p, l)
		})
	}
}

func hasCap[T any](a nalloc.Allocator) bool { _, ok := nalloc.As[T](a); return ok }

// Checked never passes a stray pointer to the wrapped allocator's
// UsableSize (malloc_usable_size of one can crash the process).
func TestCheckedUsableSizeOfStrayPointer(t *testing.T) {
	c := nalloc.NewChecked(&capable{bare: bare{nalloc.NewGoHeap()}})
	var x [16]byte
	if n := nalloc.UsableSize(c, unsafe.Pointer(&x)); n != 0 {
		t.Fatalf("UsableSize of a pointer Checked never handed out = %d, want 0", n)
	}
}

// The helpers on an allocator that is no wrapper: its own capabilities.
func TestHelpersOnBackend(t *testing.T) {
	g := openGlibc(t)
	if _, err := nalloc.StatsOf(g); err != nil {
		t.Errorf("StatsOf(glibc) = %v", err)
	}
	if err := nalloc.Purge(g); err != nil {
		t.Errorf("Purge(glibc) = %v", err)
	}
	if err := nalloc.Purge(nil); !errors.Is(err, nalloc.ErrUnsupported) {
		t.Errorf("Purge(nil) = %v, want ErrUnsupported", err)
	}
}
