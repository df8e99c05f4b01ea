// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build linux || darwin

package nalloc

import (
	"fmt"

	"github.com/nalloc/nalloc/osmem"
)

func countProcess(goHeld uint64) (uint64, error) {
	_, anon, err := osmem.Resident()
	if err != nil {
		return 0, fmt.Errorf("nalloc: the GC pacer cannot count the process's memory: %w", err)
	}
	return anon - min(anon, goHeld), nil
}
