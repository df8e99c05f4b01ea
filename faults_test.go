// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nalloc/nalloc"
	_ "github.com/nalloc/nalloc/all"
	"github.com/nalloc/nalloc/internal/ctest"
	"github.com/nalloc/nalloc/internal/native"
)

// TestBackendsRefuseTheWrongLibrary gives each native backend a library
// that loads but is not the one it expects (a stub with no malloc, built
// here): the error names the backend and the missing symbol, the first of
// its malloc functions, and does not claim the library is missing.
func TestBackendsRefuseTheWrongLibrary(t *testing.T) {
	stub := ctest.Stub(t)
	for _, s := range native.Specs() {
		_, err := s.OpenLibrary(stub)
		if !s.RunsHere() {
			unsupportedHere(t, s, stub, err)
			continue
		}
		if err == nil {
			t.Errorf("%s.OpenLibrary(stub) succeeded", s.Name)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "not a usable "+s.Name+" library") || !strings.Contains(msg, s.Malloc.Malloc) ||
			errors.Is(err, nalloc.ErrLibraryNotFound) {
			t.Errorf("%s.OpenLibrary(stub): %v; want an error naming the library and %s", s.Name, err, s.Malloc.Malloc)
		}
	}
}

// TestBackendsMissingLibrary checks the missing-library error of each
// backend: it wraps ErrLibraryNotFound and names the path.
func TestBackendsMissingLibrary(t *testing.T) {
	for _, s := range native.Specs() {
		path := "/nonexistent/lib" + s.Name + ".so.9"
		_, err := s.OpenLibrary(path)
		if !s.RunsHere() {
			unsupportedHere(t, s, path, err)
			continue
		}
		if !errors.Is(err, nalloc.ErrLibraryNotFound) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s.OpenLibrary(%s): %v; want ErrLibraryNotFound naming the path", s.Name, path, err)
		}
	}
}

// unsupportedHere checks the error of opening a backend that does not run
// on this system with the library at path: whatever the path, it says the
// backend is unsupported here, not that the library is missing or wrong.
func unsupportedHere(t *testing.T, s *native.Spec, path string, err error) {
	t.Helper()
	if !errors.Is(err, nalloc.ErrUnsupported) || errors.Is(err, nalloc.ErrLibraryNotFound) {
		t.Errorf("%s.OpenLibrary(%s), which does not run here: %v; want an error wrapping nalloc.ErrUnsupported", s.Name, path, err)
	}
}
