// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !linux && !darwin

package osmem

import (
	"errors"
	"fmt"
	"runtime"
)

// errNoFigures is what every reading returns on a system osmem does not
// read: it wraps errors.ErrUnsupported.
var errNoFigures = fmt.Errorf("osmem: no memory figures on %s: %w", runtime.GOOS, errors.ErrUnsupported)

// ReadCheap takes a Snapshot without the mappings, cheap enough to call in
// a tight sampling loop.
func ReadCheap() (Snapshot, error) { return Snapshot{}, errNoFigures }

// Break returns the program break: 0, as this system has none.
func Break() uintptr { return 0 }

// Resident returns the process's resident memory and its anonymous part,
// in bytes.
func Resident() (rss, anon uint64, err error) { return 0, 0, errNoFigures }

func eachMapping(func(Mapping)) error { return errNoFigures }
