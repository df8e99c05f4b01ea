// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/glibc"
	"github.com/nalloc/nalloc/internal/ctest"
	"github.com/nalloc/nalloc/jemalloc"
	"github.com/nalloc/nalloc/mimalloc"
)

// openers are the native backends' OpenLibrary, with the first symbol each
// looks up.
var openers = []struct {
	name   string
	open   func(path string) error
	symbol string
}{
	{"glibc", func(p string) error { _, err := glibc.OpenLibrary(p); return err }, "malloc"},
	{"jemalloc", func(p string) error { _, err := jemalloc.OpenLibrary(p); return err }, "mallocx"},
	{"mimalloc", func(p string) error { _, err := mimalloc.OpenLibrary(p); return err }, "mi_version"},
}

// TestBackendsRefuseTheWrongLibrary gives each native backend a library
// that loads but is not the one it expects (a stub with no malloc, built
// here): the error names the backend and the missing symbol, and does not
// claim the library is missing.
func TestBackendsRefuseTheWrongLibrary(t *testing.T) {
	stub := ctest.Stub(t)
	for _, o := range openers {
		err := o.open(stub)
		if err == nil {
			t.Errorf("%s.OpenLibrary(stub) succeeded", o.name)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "not a usable "+o.name+" library") || !strings.Contains(msg, o.symbol) ||
			errors.Is(err, nalloc.ErrLibraryNotFound) {
			t.Errorf("%s.OpenLibrary(stub): %v; want an error naming the library and %s", o.name, err, o.symbol)
		}
	}
}

// TestBackendsMissingLibrary checks the missing-library error of each
// backend: it wraps ErrLibraryNotFound and names the path.
func TestBackendsMissingLibrary(t *testing.T) {
	for _, o := range openers {
		path := "/nonexistent/lib" + o.name + ".so.9"
		err := o.open(path)
		if !errors.Is(err, nalloc.ErrLibraryNotFound) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s.OpenLibrary(%s): %v; want ErrLibraryNotFound naming the path", o.name, path, err)
		}
	}
}
