// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package libsystem_test

import (
	"errors"
	"fmt"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/libsystem"
)

// The example runs on macOS only, so it has no output to check here.
func Example() {
	a, err := libsystem.Open()
	if errors.Is(err, nalloc.ErrUnsupported) {
		fmt.Println("not macOS:", err) // any other system: use another backend
		return
	}
	if err != nil {
		panic(err)
	}
	l := nalloc.Layout{Size: 1 << 20, Align: 4096}
	p, err := a.Allocate(l) // malloc_zone_memalign: the alignment is above malloc's 16
	if err != nil {
		panic(err)
	}
	fmt.Println(uintptr(p)%4096 == 0, a.UsableSize(p) >= l.Size, a.Statistics().BlocksInUse > 0)
	a.Deallocate(p, l)
	fmt.Println("released:", a.PurgeBytes(0), "bytes") // malloc_zone_pressure_relief(zone, 0)
}
