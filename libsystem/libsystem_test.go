// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package libsystem

import (
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/native"
)

// TestStatisticsLayout checks Statistics against malloc_statistics_t as
// the 64-bit macOS ABIs lay it out: an unsigned at 0, padding, then the
// three size_t fields at 8, 16 and 24, 32 bytes in all. C writes it
// through its address, so a field out of place would be filled with
// another's figure.
func TestStatisticsLayout(t *testing.T) {
	var s Statistics
	got := [...]uintptr{
		unsafe.Offsetof(s.BlocksInUse), unsafe.Offsetof(s.SizeInUse),
		unsafe.Offsetof(s.MaxSizeInUse), unsafe.Offsetof(s.SizeAllocated),
		unsafe.Sizeof(s.BlocksInUse), unsafe.Sizeof(s.SizeInUse), unsafe.Sizeof(s),
	}
	if want := [...]uintptr{0, 8, 16, 24, 4, 8, 32}; got != want {
		t.Errorf("Statistics: offsets of its four fields, sizes of an unsigned, a size_t and the whole %v; malloc_statistics_t's %v", got, want)
	}
}

func TestStatsOf(t *testing.T) {
	got := statsOf(Statistics{BlocksInUse: 3, SizeInUse: 4096, MaxSizeInUse: 8192, SizeAllocated: 1 << 20})
	if want := (nalloc.Stats{Allocated: 4096, Active: 4096, Mapped: 1 << 20}); got != want {
		t.Errorf("statsOf = %+v, want %+v", got, want)
	}
}

// TestSpec checks what the backend declares: the library of macOS
// itself, no Debian package (it has no Linux library), the zone calls,
// and a C pair on a zone.
func TestSpec(t *testing.T) {
	i := slices.IndexFunc(native.Specs(), func(s *native.Spec) bool { return s.Name == "libsystem" })
	if i < 0 {
		t.Fatal("libsystem is not among the registered native backends")
	}
	s := native.Specs()[i]
	if len(s.Sonames) != 0 || s.Package != "" {
		t.Errorf("Sonames %q, Package %q: libsystem has no Linux library", s.Sonames, s.Package)
	}
	if !slices.Equal(s.MacOS.Dylibs, []string{"/usr/lib/libSystem.B.dylib"}) || s.MacOS.Formula != "" || s.MacOS.DefaultZone {
		t.Errorf("MacOS %+v", s.MacOS)
	}
	if s.Malloc.Zone != "malloc_create_zone" {
		t.Errorf("Malloc.Zone = %q", s.Malloc.Zone)
	}
	if want := (native.Pair{Alloc: "malloc_zone_malloc", Free: "malloc_zone_free", Kind: "zone"}); s.Pair != want {
		t.Errorf("Pair = %+v, want %+v", s.Pair, want)
	}
	if got := s.RunsHere(); got != (runtime.GOOS == "darwin") {
		t.Errorf("RunsHere() = %v on %s", got, runtime.GOOS)
	}
}

// TestUnsupportedOffDarwin: everywhere but macOS, every way of opening
// the backend says it does not run here, with an error wrapping
// nalloc.ErrUnsupported (and not ErrLibraryNotFound: nothing to install
// would help).
func TestUnsupportedOffDarwin(t *testing.T) {
	if runtime.GOOS == "darwin" {
		t.Skip("libsystem runs on macOS")
	}
	for what, open := range map[string]func() (bool, error){
		"Open":              func() (bool, error) { a, err := Open(); return a != nil, err },
		"OpenLibrary(path)": func() (bool, error) { a, err := OpenLibrary("/usr/lib/libSystem.B.dylib"); return a != nil, err },
		"nalloc.Open":       func() (bool, error) { a, err := nalloc.Open("libsystem"); return a != nil, err },
	} {
		got, err := open()
		if got || !errors.Is(err, nalloc.ErrUnsupported) || !errors.Is(err, errors.ErrUnsupported) ||
			errors.Is(err, nalloc.ErrLibraryNotFound) || !strings.Contains(err.Error(), "libsystem") {
			t.Errorf("%s: got an allocator: %v, %v; want none and an error naming libsystem and wrapping nalloc.ErrUnsupported", what, got, err)
		}
	}
}
