// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build cgo

package peer

/*
#cgo LDFLAGS: -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>

// The pair of functions the cgo peer calls, as csrc/shootout.h calls
// them: p = alloc(size), free(p).
static void *bench_alloc(void *fn, size_t n) { return ((void *(*)(size_t))fn)(n); }

static void bench_free(void *fn, void *p) { ((void (*)(void *))fn)(p); }

// bench_dlopen opens lib with RTLD_LOCAL, so that the process's own
// malloc stays glibc's, and finds the pair; on failure it returns NULL
// and *err says why.
static void *bench_dlopen(const char *lib, const char *alloc, const char *free_, void **a, void **f, const char **err) {
	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		*err = dlerror();
		return NULL;
	}
	*a = dlsym(h, alloc);
	*f = dlsym(h, free_);
	if (!*a || !*f) {
		*err = "the library lacks the functions";
		return NULL;
	}
	return h;
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/native"
)

// CgoBuilt says whether this binary can measure the cgo peer.
const CgoBuilt = true

// cgoHeap is the cgo peer: a native library's pair of functions called
// through cgo, one cgo call per Allocate and per Deallocate, as a Go
// program that wraps malloc with cgo calls it (MatrixOne, ristretto's z,
// arrow-go's mallocator). The library is dlopen'ed with RTLD_LOCAL, as
// nalloc loads it, so that the process's malloc stays glibc's. Safe for
// concurrent use, as the library is.
type cgoHeap struct {
	alloc, free unsafe.Pointer
	name        string
}

// OpenCgo opens the cgo peer for library (a path or soname) with pair.
func OpenCgo(name, library string, pair native.Pair) (nalloc.Allocator, error) {
	if pair.Kind != "plain" {
		return nil, fmt.Errorf("cgo: the cgo peer calls plain pairs only, not %s's %s pair", name, pair.Kind)
	}
	lib, alloc, free := C.CString(library), C.CString(pair.Alloc), C.CString(pair.Free)
	defer C.free(unsafe.Pointer(lib))
	defer C.free(unsafe.Pointer(alloc))
	defer C.free(unsafe.Pointer(free))
	var a, f unsafe.Pointer
	var why *C.char
	if C.bench_dlopen(lib, alloc, free, &a, &f, &why) == nil {
		return nil, fmt.Errorf("cgo: dlopen %s (%s, %s): %s", library, pair.Alloc, pair.Free, C.GoString(why))
	}
	h := &cgoHeap{alloc: a, free: f, name: name}
	// The library's first call initialises it: keep it out of the clock,
	// as the C side does.
	l := nalloc.Layout{Size: 1, Align: 1}
	p, err := h.Allocate(l)
	if err != nil {
		return nil, err
	}
	h.Deallocate(p, l)
	return h, nil
}

// cgoAlign is the alignment malloc and its peers give every block.
const cgoAlign = 16

func (h *cgoHeap) Allocate(l nalloc.Layout) (unsafe.Pointer, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	if l.Align > cgoAlign {
		return nil, fmt.Errorf("%w: the cgo peer calls %s's plain allocation, aligned to %d bytes, not %d",
			nalloc.ErrInvalidLayout, h.name, cgoAlign, l.Align)
	}
	p := C.bench_alloc(h.alloc, C.size_t(max(l.Size, 1)))
	if p == nil {
		return nil, nalloc.OutOfMemory(h.name+" (cgo)", l)
	}
	return p, nil
}

func (h *cgoHeap) Deallocate(p unsafe.Pointer, l nalloc.Layout) {
	if p != nil {
		C.bench_free(h.free, p)
	}
}

func (h *cgoHeap) Grow(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	return moveBlock(h, p, old, new, nalloc.ValidateGrow)
}

func (h *cgoHeap) Shrink(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	return moveBlock(h, p, old, new, nalloc.ValidateShrink)
}
