// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package pproftest holds only tests: it proves nalloc.Profiled's heap
// profiles with github.com/google/pprof/profile (the parser behind `go
// tool pprof`) and with `go tool pprof` itself, in a module of its own so
// that the library's go.mod stays at purego and swiss.
//
//	cd pproftest && go test ./...
package pproftest
