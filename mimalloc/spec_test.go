// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package mimalloc

import (
	"errors"
	"strings"
	"testing"

	"github.com/nalloc/nalloc"
)

// TestMissingLibraryNamesThePackage loads the package's own spec with
// sonames that no system has, as on a machine without libmimalloc2.0.
func TestMissingLibraryNamesThePackage(t *testing.T) {
	s := backend.Spec
	s.Sonames = []string{"libmimalloc-nalloc-test.so.2"}
	_, err := s.Load("")
	if !errors.Is(err, nalloc.ErrLibraryNotFound) {
		t.Fatalf("err = %v, want ErrLibraryNotFound", err)
	}
	if !strings.Contains(err.Error(), "Debian package libmimalloc2.0") || strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q does not name the Debian package in one line", err)
	}
}
