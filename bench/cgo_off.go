// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !cgo

package main

import "github.com/nalloc/nalloc"

// cgoBuilt says whether this binary can measure the cgo peer: not when
// built with CGO_ENABLED=0.
const cgoBuilt = false

func openCgo(string, string, nativePair) (nalloc.Allocator, error) { return nil, errNoCgo }
