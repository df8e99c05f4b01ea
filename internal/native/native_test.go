// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package native_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/ffi"
	"github.com/nalloc/nalloc/internal/native"
)

var missing = native.Spec{
	Name:    "fakealloc",
	Sonames: []string{"libfakealloc.so.3", "libfakealloc.so"},
	Package: "libfakealloc3",
}

func TestLoadMissingNamesThePackage(t *testing.T) {
	_, err := native.Load(missing, "")
	if !errors.Is(err, nalloc.ErrLibraryNotFound) {
		t.Fatalf("Load of a missing library: err = %v, want ErrLibraryNotFound", err)
	}
	for _, want := range []string{"fakealloc", "libfakealloc.so.3", "apt-get install libfakealloc3"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestSymbolsNamesTheMissingOne(t *testing.T) {
	lib, err := ffi.Load("libc.so.6")
	if err != nil {
		t.Fatal(err)
	}
	var malloc, bogus uintptr
	err = native.Symbols(missing, lib, ffi.Sym{Name: "malloc", Addr: &malloc}, ffi.Sym{Name: "fakealloc_malloc", Addr: &bogus})
	if err == nil || !strings.Contains(err.Error(), "fakealloc_malloc") || malloc == 0 {
		t.Fatalf("Symbols with one missing: err = %v, malloc = %#x", err, malloc)
	}
}

func TestOpenedKeepsOnePerPath(t *testing.T) {
	var o native.Opened[int]
	calls := 0
	open := func(path string) (*int, error) {
		calls++
		if path == "bad" {
			return nil, errors.New("no")
		}
		v := len(path)
		return &v, nil
	}
	a, _ := o.Get("libx.so", open)
	b, _ := o.Get("libx.so", open)
	c, _ := o.Get("liby.so.2", open)
	if a != b || a == c || *c != 9 || calls != 2 {
		t.Fatalf("Get: %p %p %p, %d opens; want the first two the same and 2 opens", a, b, c, calls)
	}
	for range 2 {
		if v, err := o.Get("bad", open); v != nil || err == nil {
			t.Fatalf("Get of a failing open = %v, %v", v, err)
		}
	}
	if calls != 4 {
		t.Errorf("a failed open was kept: %d opens, want 4", calls)
	}
}
