// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package native

import (
	"fmt"
	"path"
	"runtime"
	"sync"

	"github.com/nalloc/nalloc"
)

// MacOS is what a backend declares about its library on macOS, where the
// libraries come from Homebrew. The zero value means the backend does not
// run on macOS (glibc).
type MacOS struct {
	// Dylibs are the library's file names, the versioned one first
	// ("libjemalloc.2.dylib"). Each is tried in Homebrew's lib directory,
	// then bare, so that dyld's own search (DYLD_LIBRARY_PATH, and
	// /usr/local/lib among its fallbacks) finds a build installed
	// elsewhere. An absolute path is tried as it is: a library of macOS
	// itself ("/usr/lib/libSystem.B.dylib").
	Dylibs []string
	// Formula is the Homebrew formula that installs it: "jemalloc"; ""
	// for a library that is part of macOS.
	Formula string
	// DefaultZone is set for a library that, as it loads, makes itself
	// the process's default malloc zone (jemalloc, mimalloc as Homebrew
	// builds it, gperftools' TCMalloc): every malloc in the process is
	// then the library's. Such a library loads only after the program has
	// said so with AllowDefaultZone (each backend exports it).
	DefaultZone bool
}

// homebrewPrefix is where Homebrew installs on each architecture when
// HOMEBREW_PREFIX does not say: /opt/homebrew on Apple silicon,
// /usr/local on Intel Macs.
var homebrewPrefix = map[string]string{"arm64": "/opt/homebrew", "amd64": "/usr/local"}

// libraryNames returns the names to pass to dlopen, in order, for spec's
// library on goos/goarch, and where the library comes from there ("Debian
// package libjemalloc2", "Homebrew formula jemalloc", "part of macOS").
// brewPrefix is $HOMEBREW_PREFIX ("" if unset). A backend whose library
// nalloc does not load on goos (no Sonames for Linux, no Dylibs for
// macOS, any other system) gets an error wrapping nalloc.ErrUnsupported.
func libraryNames(spec *Spec, goos, goarch, brewPrefix string) (names []string, source string, err error) {
	switch goos {
	case "linux":
		if len(spec.Sonames) == 0 {
			break
		}
		return spec.Sonames, "Debian package " + spec.Package, nil
	case "darwin":
		if len(spec.MacOS.Dylibs) == 0 {
			break
		}
		if brewPrefix == "" {
			brewPrefix = homebrewPrefix[goarch]
		}
		for _, d := range spec.MacOS.Dylibs {
			if brewPrefix != "" && !path.IsAbs(d) {
				names = append(names, path.Join(brewPrefix, "lib", d))
			}
			names = append(names, d)
		}
		if spec.MacOS.Formula == "" {
			return names, "part of macOS", nil
		}
		return names, "Homebrew formula " + spec.MacOS.Formula, nil
	}
	return nil, "", fmt.Errorf("%s: no library to load on %s: %w", spec.Name, goos, nalloc.ErrUnsupported)
}

// RunsHere reports whether the backend has a library to load on this
// system. Where it has none, its Open returns an error wrapping
// nalloc.ErrUnsupported (glibc on macOS, libsystem on Linux, every native
// backend on Windows): tools and tests that go over every backend leave
// it out, and may check that error.
func (s *Spec) RunsHere() bool {
	_, _, err := libraryNames(s, runtime.GOOS, runtime.GOARCH, "")
	return err == nil
}

// defaultZone is the set of backends whose library the program allows to
// become the default malloc zone on macOS (AllowDefaultZone).
var defaultZone struct {
	sync.Mutex
	allowed map[string]bool
}

// AllowDefaultZone lets the backend named name load on macOS although its
// library makes itself the process's default malloc zone (MacOS's
// DefaultZone). It does nothing on other systems, and for other
// backends.
func AllowDefaultZone(name string) {
	defaultZone.Lock()
	defer defaultZone.Unlock()
	if defaultZone.allowed == nil {
		defaultZone.allowed = make(map[string]bool)
	}
	defaultZone.allowed[name] = true
}

// zoneCheck returns the error of loading spec's library on goos when the
// library would take over the default malloc zone and the program has not
// allowed it: it wraps nalloc.ErrUnsupported.
func zoneCheck(spec *Spec, goos string) error {
	if goos != "darwin" || !spec.MacOS.DefaultZone {
		return nil
	}
	defaultZone.Lock()
	defer defaultZone.Unlock()
	if defaultZone.allowed[spec.Name] {
		return nil
	}
	return fmt.Errorf("%s: on macOS the library becomes the process's default malloc zone as it loads, "+
		"and %s.AllowDefaultZone was not called: %w", spec.Name, spec.Name, nalloc.ErrUnsupported)
}
