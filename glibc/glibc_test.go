// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package glibc_test

import (
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/glibc"
	"github.com/nalloc/nalloc/nalloctest"
)

func open(t testing.TB) *glibc.Allocator {
	t.Helper()
	a, err := glibc.Open()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestConformance(t *testing.T) {
	nalloctest.Run(t, nalloctest.Config{
		New:            func(t testing.TB) nalloc.Allocator { return open(t) },
		StatsAllocated: true,
	})
}
