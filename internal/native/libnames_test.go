// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package native

import (
	"errors"
	"slices"
	"testing"

	"github.com/nalloc/nalloc"
)

// TestLibraryNames checks the names each system's dlopen is given, on
// Linux for every system: the per-OS logic is data and one function, so
// macOS's and Windows's answers are checked here, where they cannot run.
func TestLibraryNames(t *testing.T) {
	spec := &Spec{Name: "jemalloc", Sonames: []string{"libjemalloc.so.2"}, Package: "libjemalloc2",
		MacOS: MacOS{Dylibs: []string{"libjemalloc.2.dylib", "libjemalloc.dylib"}, Formula: "jemalloc"}}
	linuxOnly := &Spec{Name: "glibc", Sonames: []string{"libc.so.6"}, Package: "libc6"}
	// A library of macOS itself, by its absolute path: no Homebrew
	// directory in front, and nothing to load on Linux.
	macOnly := &Spec{Name: "libsystem", MacOS: MacOS{Dylibs: []string{"/usr/lib/libSystem.B.dylib"}}}
	tests := []struct {
		spec               *Spec
		goos, goarch, brew string
		names              []string
		install            string
		unsupported        bool
	}{
		{spec: spec, goos: "linux", goarch: "arm64", names: []string{"libjemalloc.so.2"}, install: "Debian package libjemalloc2"},
		{spec: spec, goos: "darwin", goarch: "arm64", install: "Homebrew formula jemalloc", names: []string{
			"/opt/homebrew/lib/libjemalloc.2.dylib", "libjemalloc.2.dylib",
			"/opt/homebrew/lib/libjemalloc.dylib", "libjemalloc.dylib"}},
		{spec: spec, goos: "darwin", goarch: "amd64", install: "Homebrew formula jemalloc", names: []string{
			"/usr/local/lib/libjemalloc.2.dylib", "libjemalloc.2.dylib",
			"/usr/local/lib/libjemalloc.dylib", "libjemalloc.dylib"}},
		{spec: spec, goos: "darwin", goarch: "arm64", brew: "/Users/me/brew", install: "Homebrew formula jemalloc", names: []string{
			"/Users/me/brew/lib/libjemalloc.2.dylib", "libjemalloc.2.dylib",
			"/Users/me/brew/lib/libjemalloc.dylib", "libjemalloc.dylib"}},
		{spec: spec, goos: "windows", goarch: "amd64", unsupported: true},
		{spec: linuxOnly, goos: "darwin", goarch: "arm64", unsupported: true},
		{spec: linuxOnly, goos: "freebsd", goarch: "amd64", unsupported: true},
		{spec: macOnly, goos: "darwin", goarch: "arm64", names: []string{"/usr/lib/libSystem.B.dylib"}, install: "part of macOS"},
		{spec: macOnly, goos: "darwin", goarch: "amd64", brew: "/Users/me/brew", names: []string{"/usr/lib/libSystem.B.dylib"}, install: "part of macOS"},
		{spec: macOnly, goos: "linux", goarch: "amd64", unsupported: true},
		{spec: macOnly, goos: "windows", goarch: "arm64", unsupported: true},
	}
	for _, tt := range tests {
		names, install, err := libraryNames(tt.spec, tt.goos, tt.goarch, tt.brew)
		if tt.unsupported {
			if !errors.Is(err, nalloc.ErrUnsupported) || !errors.Is(err, errors.ErrUnsupported) || names != nil {
				t.Errorf("%s on %s/%s: %q, %v; want an error wrapping nalloc.ErrUnsupported", tt.spec.Name, tt.goos, tt.goarch, names, err)
			}
			continue
		}
		if err != nil || !slices.Equal(names, tt.names) || install != tt.install {
			t.Errorf("%s on %s/%s (HOMEBREW_PREFIX %q):\n got %q, %q, %v\nwant %q, %q",
				tt.spec.Name, tt.goos, tt.goarch, tt.brew, names, install, err, tt.names, tt.install)
		}
	}
}

// TestZoneCheck checks that a library that takes the default malloc zone
// loads on macOS only once allowed, and is never held back elsewhere.
func TestZoneCheck(t *testing.T) {
	takes := &Spec{Name: "zonetest", MacOS: MacOS{Dylibs: []string{"libz.dylib"}, DefaultZone: true}}
	keeps := &Spec{Name: "zonetest-keeps", MacOS: MacOS{Dylibs: []string{"libk.dylib"}}}
	if err := zoneCheck(takes, "darwin"); !errors.Is(err, nalloc.ErrUnsupported) {
		t.Errorf("before AllowDefaultZone: %v, want an error wrapping nalloc.ErrUnsupported", err)
	}
	for _, goos := range []string{"linux", "windows"} {
		if err := zoneCheck(takes, goos); err != nil {
			t.Errorf("on %s: %v, want nil", goos, err)
		}
	}
	if err := zoneCheck(keeps, "darwin"); err != nil {
		t.Errorf("a library that keeps the zone: %v", err)
	}
	AllowDefaultZone("zonetest")
	t.Cleanup(func() { // so that the test passes again with -count
		defaultZone.Lock()
		defer defaultZone.Unlock()
		delete(defaultZone.allowed, "zonetest")
	})
	if err := zoneCheck(takes, "darwin"); err != nil {
		t.Errorf("after AllowDefaultZone: %v", err)
	}
}
