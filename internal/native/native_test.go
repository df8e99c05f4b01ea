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
