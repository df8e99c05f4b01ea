// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package all_test

import (
	"errors"
	"go/parser"
	"go/token"
	"path"
	"runtime"
	"slices"
	"strconv"
	"testing"

	"github.com/nalloc/nalloc"
	_ "github.com/nalloc/nalloc/all"
	"github.com/nalloc/nalloc/internal/backends"
	"github.com/nalloc/nalloc/internal/native"
)

// imported returns the last element of each import path of all.go: the
// backends' names, by the convention that each lives in the package named
// after it.
func imported(t *testing.T) []string {
	f, err := parser.ParseFile(token.NewFileSet(), "all.go", nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		names = append(names, path.Base(p))
	}
	return names
}

func TestRegistersEveryBackend(t *testing.T) {
	names := nalloc.Names()
	linked := append(imported(t), "go")
	if len(linked) < 2 {
		t.Fatalf("all.go imports %v; want every backend", linked)
	}
	for _, n := range linked {
		if !slices.Contains(names, n) {
			t.Errorf("nalloc.Names() = %v: %q is missing", names, n)
		}
		// Registered means Open gets past the registry: a missing library
		// is the backend's own error, never "not linked in".
		if _, err := nalloc.Open(n); errors.Is(err, nalloc.ErrUnknownAllocator) {
			t.Errorf("Open(%q): %v", n, err)
		}
	}
}

// TestBackendList checks internal/backends/backends.txt, the list the
// Makefile, the Dockerfile and the scripts read, against the native
// backends' own declarations of their Debian packages: the same package
// for each, and no package for a backend that is not native. A native
// backend with no package ("-") is one with no Linux library (libsystem),
// which the scripts leave out: it must indeed have none, and say so when
// opened on Linux.
func TestBackendList(t *testing.T) {
	specs := native.Specs()
	for _, s := range specs {
		if pkg := backends.Package[s.Name]; pkg != s.Package {
			t.Errorf("internal/backends/backends.txt has %s %q; the backend's Spec says %q", s.Name, pkg, s.Package)
		}
		if (s.Package == "") != (len(s.Sonames) == 0) {
			t.Errorf("%s: Debian package %q, Linux sonames %q: a backend has both or neither", s.Name, s.Package, s.Sonames)
		}
		if runtime.GOOS == "linux" && len(s.Sonames) == 0 {
			if _, err := s.OpenLibrary(""); !errors.Is(err, nalloc.ErrUnsupported) {
				t.Errorf("%s has no Linux library, yet its Open on Linux says %v, not an error wrapping nalloc.ErrUnsupported", s.Name, err)
			}
		}
	}
	for name := range backends.Package {
		if !slices.ContainsFunc(specs, func(s *native.Spec) bool { return s.Name == name }) {
			t.Errorf("internal/backends/backends.txt names a Debian package for %s, which registers no native backend", name)
		}
	}
}

// The root package's list of backends (for Open's errors) is what all.go
// links in.
func TestBackendsListed(t *testing.T) {
	if got := imported(t); !slices.Equal(got, backends.Names) {
		t.Fatalf("all.go imports %v, internal/backends lists %v: keep them the same", got, backends.Names)
	}
}
