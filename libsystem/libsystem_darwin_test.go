// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package libsystem_test

import (
	"errors"
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/native"
	"github.com/nalloc/nalloc/libsystem"
	"github.com/nalloc/nalloc/nalloctest"
)

// These tests run on macOS only, which the project builds and links them
// for (make cross) but has no machine to run them on: docs/platforms.md.

// contract is the conformance suite's configuration, for the test and
// the fuzz target.
var contract = nalloctest.Config{
	New: func(t testing.TB) nalloc.Allocator {
		a, err := libsystem.Open()
		if err != nil {
			t.Fatal(err)
		}
		return a
	},
	MayAllocate:    native.FastPathAllocates,
	StatsAllocated: true,
}

func TestConformance(t *testing.T) { nalloctest.Run(t, contract) }

// FuzzAllocator runs the contract under the fuzzer (see nalloctest.Fuzz).
func FuzzAllocator(f *testing.F) { nalloctest.Fuzz(f, contract) }

func open(t *testing.T) *libsystem.Allocator { return contract.New(t).(*libsystem.Allocator) }

func TestOpen(t *testing.T) {
	a := open(t)
	if b, err := nalloc.Open("libsystem"); err != nil || b != nalloc.Allocator(a) {
		t.Fatalf(`nalloc.Open("libsystem") = %v, %v; want libsystem.Open's allocator`, b, err)
	}
	if a.Library() != "/usr/lib/libSystem.B.dylib" {
		t.Errorf("Library() = %q", a.Library())
	}
	if _, err := libsystem.OpenLibrary("/nonexistent/libSystem.B.dylib"); !errors.Is(err, nalloc.ErrLibraryNotFound) {
		t.Errorf("OpenLibrary of a missing file: %v, want ErrLibraryNotFound", err)
	}
	if err := a.Tune("MallocNanoZone", "0"); !errors.Is(err, nalloc.ErrUnsupported) {
		t.Errorf("Tune: %v, want an error wrapping nalloc.ErrUnsupported", err)
	}
}

// TestStatisticsCountTheZone: a block shows up in the zone's figures
// while it is live, and Purge gives back what it can afterwards.
func TestStatisticsCountTheZone(t *testing.T) {
	a := open(t)
	before := a.Statistics()
	l := nalloc.Layout{Size: 8 << 20, Align: 16}
	p, err := a.Allocate(l)
	if err != nil {
		t.Fatal(err)
	}
	during := a.Statistics()
	a.Deallocate(p, l)
	if during.BlocksInUse != before.BlocksInUse+1 || during.SizeInUse < before.SizeInUse+uint64(l.Size) {
		t.Errorf("statistics with an 8 MiB block live: %+v, before: %+v", during, before)
	}
	if during.SizeAllocated < during.SizeInUse || during.MaxSizeInUse < during.SizeInUse {
		t.Errorf("statistics %+v: reserved or high-water mark below what is in use", during)
	}
	t.Logf("released %d bytes", a.PurgeBytes(0))
	if err := a.Purge(); err != nil {
		t.Errorf("Purge: %v", err)
	}
}
