// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package backends names the packages of this module that register an
// allocator with nalloc.Register, so that nalloc.Open can tell a name
// that is one of them, whose package the program did not import, from a
// name that is none (a typo). The root package cannot import them (they
// import it), nor the package all that links them all in; all's test
// checks that this list and its imports agree.
package backends

// Names are the registered names of this module's backends, each also
// the last element of its package's path (github.com/nalloc/nalloc/NAME),
// sorted.
var Names = []string{"bump", "glibc", "jemalloc", "mimalloc", "tbbmalloc", "tcmalloc"}

// ImportPath is the package that registers the backend name.
func ImportPath(name string) string { return "github.com/nalloc/nalloc/" + name }
