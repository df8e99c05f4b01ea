// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package all links in every nalloc backend, so that nalloc.Open knows
// all of their names:
//
//	import _ "github.com/nalloc/nalloc/all"
//
// It has no API. Each backend registers itself when its package is
// initialised; registering loads no library (that happens at the first
// nalloc.Open of the name), so importing all costs nothing for the
// backends a program does not open, and a missing library is an error from
// Open, not from start-up.
package all

import (
	_ "github.com/nalloc/nalloc/bump"
	_ "github.com/nalloc/nalloc/glibc"
	_ "github.com/nalloc/nalloc/jemalloc"
	_ "github.com/nalloc/nalloc/libsystem"
	_ "github.com/nalloc/nalloc/mimalloc"
	_ "github.com/nalloc/nalloc/tbbmalloc"
	_ "github.com/nalloc/nalloc/tcmalloc"
)
