// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package jemalloc_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/ffi"
	"github.com/nalloc/nalloc/jemalloc"
	"github.com/nalloc/nalloc/nalloctest"
)

func open(t testing.TB) *jemalloc.Allocator {
	t.Helper()
	a, err := jemalloc.Open()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func newHeap(t testing.TB) *jemalloc.Heap {
	t.Helper()
	ar, err := open(t).NewHeap()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ar.Destroy(); err != nil && !errors.Is(err, jemalloc.ErrHeapClosed) {
			t.Error(err)
		}
	})
	return ar
}

// purego.SyscallN, the path without assembly, allocates per call.
const mayAllocate = ffi.FastPath == ffi.PathPurego

func TestConformance(t *testing.T) {
	nalloctest.Run(t, nalloctest.Config{
		New:            func(t testing.TB) nalloc.Allocator { return open(t) },
		StatsAllocated: true,
		MayAllocate:    mayAllocate,
	})
}

func TestArenaConformance(t *testing.T) {
	nalloctest.Run(t, nalloctest.Config{
		New:            func(t testing.TB) nalloc.Allocator { return newHeap(t) },
		StatsAllocated: true,
		MayAllocate:    mayAllocate,
	})
}

func TestOpenIsShared(t *testing.T) {
	a, b := open(t), open(t)
	if a != b {
		t.Fatal("Open returned two different Allocators")
	}
	c, err := nalloc.Open("jemalloc")
	if err != nil || c != nalloc.Allocator(a) {
		t.Fatalf(`nalloc.Open("jemalloc") = %v, %v; want the same allocator as jemalloc.Open`, c, err)
	}
	if v := a.Version(); !strings.HasPrefix(v, "5.") {
		t.Errorf("Version() = %q, want 5.x", v)
	}
	if a.Page() < 4096 {
		t.Errorf("Page() = %d", a.Page())
	}
	t.Logf("%s %s; re-executed by Reexec: %v; linked (DT_NEEDED): %v", a.Library(), a.Version(),
		os.Getenv("NALLOC_JEMALLOC_REEXEC") != "", jemalloc.Linked)
}

func TestOpenLibraryMissing(t *testing.T) {
	_, err := jemalloc.OpenLibrary("/nonexistent/libjemalloc.so.2")
	if !errors.Is(err, nalloc.ErrLibraryNotFound) {
		t.Fatalf("OpenLibrary of a missing file: err = %v, want ErrLibraryNotFound", err)
	}
	if !strings.Contains(err.Error(), "/nonexistent/libjemalloc.so.2") {
		t.Errorf("error %q does not name the path", err)
	}
}
