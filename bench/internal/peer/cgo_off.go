// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !cgo

package peer

import (
	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/native"
)

// CgoBuilt says whether this binary can measure the cgo peer: not when
// built with CGO_ENABLED=0.
const CgoBuilt = false

func OpenCgo(string, string, native.Pair) (nalloc.Allocator, error) { return nil, ErrNoCgo }
