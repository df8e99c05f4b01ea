// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package mimalloc

import (
	"errors"
	"strings"
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/native"
)

// TestMissingLibraryNamesThePackage loads the package's own spec with
// sonames that no system has, as on a machine without libmimalloc2.0.
func TestMissingLibraryNamesThePackage(t *testing.T) {
	s := spec
	s.Sonames = []string{"libmimalloc-nalloc-test.so.2"}
	_, err := native.Load(s, "")
	if !errors.Is(err, nalloc.ErrLibraryNotFound) {
		t.Fatalf("err = %v, want ErrLibraryNotFound", err)
	}
	if !strings.Contains(err.Error(), "apt-get install libmimalloc2.0") {
		t.Errorf("error %q does not name the Debian package", err)
	}
}

func TestAlignedFastPathBugVersions(t *testing.T) {
	for v, want := range map[int]bool{179: true, 180: false, 189: false, 200: true, 209: true, 210: false, 224: false, 301: false} {
		if got := alignedFastPathBug(v); got != want {
			t.Errorf("alignedFastPathBug(%d) = %v, want %v", v, got, want)
		}
	}
}
