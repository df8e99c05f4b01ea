// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package backends names the packages of this module that register an
// allocator with nalloc.Register, so that nalloc.Open can tell a name
// that is one of them, whose package the program did not import, from a
// name that is none (a typo). The root package cannot import them (they
// import it), nor the package all that links them all in.
//
// The list is backends.txt, the one place that names every backend: the
// Makefile, the Dockerfile and the scripts read it too, and all's tests
// check it against all.go's imports and each native backend's Spec.
package backends

import (
	_ "embed"
	"slices"
	"strings"
)

//go:embed backends.txt
var list string

// Names are the registered names of this module's backends, each also
// the last element of its package's path (github.com/nalloc/nalloc/NAME),
// sorted; Package maps each to the Debian package of its library ("" for
// none).
var (
	Names   []string
	Package = map[string]string{}
)

func init() {
	for line := range strings.Lines(list) {
		f := strings.Fields(line)
		if len(f) != 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		Names = append(Names, f[0])
		if f[1] != "-" {
			Package[f[0]] = f[1]
		}
	}
	slices.Sort(Names)
}

// ImportPath is the package that registers the backend name.
func ImportPath(name string) string { return "github.com/nalloc/nalloc/" + name }
