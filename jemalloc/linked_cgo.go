// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build nalloc_jemalloc_linked && cgo

package jemalloc

// With the nalloc_jemalloc_linked tag and cgo, the host linker adds the
// DT_NEEDED entries: -l:libjemalloc.so.2 names the runtime library itself,
// so no -dev package (libjemalloc.so symlink, headers) is needed;
// --no-as-needed keeps the entry although no symbol of jemalloc is
// referenced at link time; -lc before it keeps glibc's malloc the
// process's malloc (see linked_nocgo.go for why).

// #cgo LDFLAGS: -Wl,--push-state,--no-as-needed -lc -l:libjemalloc.so.2 -Wl,--pop-state
import "C"

const linked = true
