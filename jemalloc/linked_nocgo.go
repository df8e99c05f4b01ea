// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build nalloc_jemalloc_linked && !cgo

package jemalloc

// With the nalloc_jemalloc_linked tag and without cgo, these directives
// make Go's linker write DT_NEEDED entries for libc.so.6 and then
// libjemalloc.so.2 into the binary (purego does the same for libdl), so
// the dynamic loader maps jemalloc, and sizes the static TLS for it,
// before the program starts; dlopen then finds it already loaded.
//
// libc.so.6 comes first on purpose. The loader resolves malloc, free and
// the rest to the first library in the binary's search order that defines
// them, and libjemalloc.so.2 defines them all: named first, it would
// replace glibc's malloc for the whole process (every C library, glibc's
// own strdup and open_memstream), as LD_PRELOAD would. nalloc keeps
// jemalloc to the blocks allocated through this package, however it was
// loaded; TestLinked checks the order and that malloc is still glibc's.

//go:cgo_import_dynamic _ _ "libc.so.6"
//go:cgo_import_dynamic _ _ "libjemalloc.so.2"

const linked = true
