// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !cgo

package main

import (
	"errors"

	"github.com/nalloc/nalloc"
)

// cgoBuilt says whether this binary can measure the cgo peer: not when
// built with CGO_ENABLED=0.
const cgoBuilt = false

var errNoCgo = errors.New("this binary was built with CGO_ENABLED=0: build it with CGO_ENABLED=1 and a C compiler " +
	"(CGO_ENABLED=1 go run ./bench) for the cgo column")

func openCgo(string, string, nativePair) (nalloc.Allocator, error) { return nil, errNoCgo }
