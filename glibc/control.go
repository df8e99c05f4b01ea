// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package glibc

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/native"
	"github.com/nalloc/nalloc/osmem"
)

// Param is a mallopt parameter. The values are glibc's M_* constants from
// <malloc.h>, under their C names, as golang.org/x/sys/unix names C's
// constants.
type Param int32

// The mallopt parameters. See mallopt(3) for what each does; the ones that
// shape what the probe shows are M_MMAP_THRESHOLD (blocks from this size
// are mmapped on their own; glibc raises it when such a block is freed,
// unless it was set explicitly), M_TRIM_THRESHOLD (free memory at the top
// of the heap beyond this is given back with a negative sbrk), M_TOP_PAD
// (extra asked of sbrk each time), M_MMAP_MAX (how many mmapped blocks at
// once; 0 disables mmap) and M_ARENA_MAX (how many arenas threads spread
// over).
const (
	M_MXFAST         Param = 1
	M_TRIM_THRESHOLD Param = -1
	M_TOP_PAD        Param = -2
	M_MMAP_THRESHOLD Param = -3
	M_MMAP_MAX       Param = -4
	M_CHECK_ACTION   Param = -5
	M_PERTURB        Param = -6
	M_ARENA_TEST     Param = -7
	M_ARENA_MAX      Param = -8
)

var paramNames = map[Param]string{
	M_MXFAST:         "M_MXFAST",
	M_TRIM_THRESHOLD: "M_TRIM_THRESHOLD",
	M_TOP_PAD:        "M_TOP_PAD",
	M_MMAP_THRESHOLD: "M_MMAP_THRESHOLD",
	M_MMAP_MAX:       "M_MMAP_MAX",
	M_CHECK_ACTION:   "M_CHECK_ACTION",
	M_PERTURB:        "M_PERTURB",
	M_ARENA_TEST:     "M_ARENA_TEST",
	M_ARENA_MAX:      "M_ARENA_MAX",
}

// String returns the parameter's C name, M_MMAP_THRESHOLD for example.
func (p Param) String() string {
	if name, ok := paramNames[p]; ok {
		return name
	}
	return fmt.Sprintf("Param(%d)", int32(p))
}

// ErrUnknownParam is wrapped by ParseParam's error.
var ErrUnknownParam = errors.New("glibc: unknown mallopt parameter")

// ErrMalloptRefused is wrapped by Mallopt's error when glibc refuses the
// value as out of range for the parameter.
var ErrMalloptRefused = errors.New("glibc: mallopt refused the value")

// ParseParam returns the parameter with the given name: its C name
// (M_MMAP_THRESHOLD) or that name without M_ (mmap_threshold), in any case.
func ParseParam(name string) (Param, error) {
	want := strings.ToUpper(name)
	if !strings.HasPrefix(want, "M_") {
		want = "M_" + want
	}
	for p, n := range paramNames {
		if n == want {
			return p, nil
		}
	}
	known := make([]string, 0, len(paramNames))
	for _, p := range []Param{M_MMAP_THRESHOLD, M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_MAX, M_ARENA_MAX, M_ARENA_TEST, M_MXFAST, M_PERTURB, M_CHECK_ACTION} {
		known = append(known, paramNames[p])
	}
	return 0, fmt.Errorf("%w %q; known: %s", ErrUnknownParam, name, strings.Join(known, ", "))
}

// Mallopt sets a malloc parameter for the whole process, as mallopt(3)
// does. glibc checks some values and refuses those out of range (M_MXFAST
// above 160 on 64-bit systems, for one): the error then wraps
// ErrMalloptRefused, and a value that does not fit a C int
// strconv.ErrRange. Setting
// M_MMAP_THRESHOLD, M_TRIM_THRESHOLD, M_TOP_PAD or M_MMAP_MAX also turns
// off glibc's dynamic adjustment of the mmap threshold.
func (a *Allocator) Mallopt(param Param, value int) error {
	if a.mallopt == 0 {
		return a.lib.Missing("mallopt")
	}
	if value < math.MinInt32 || value > math.MaxInt32 {
		return fmt.Errorf("glibc: mallopt(%v, %d): %w", param, value, strconv.ErrRange)
	}
	// mallopt takes and returns C ints: only the low 32 bits of each register count.
	if int32(native.Slow2(a.mallopt, uintptr(int64(param)), uintptr(int64(value)))) != 1 {
		return fmt.Errorf("%w: mallopt(%v, %d)", ErrMalloptRefused, param, value)
	}
	return nil
}

// Tune implements nalloc.Tuner with Mallopt: name is a parameter as
// ParseParam takes it (M_MMAP_THRESHOLD, mmap_threshold), value a number
// with an optional unit (4MiB, 128k, -1).
func (a *Allocator) Tune(name, value string) error {
	return native.Tune("glibc", name, value, ParseParam, func(p Param, v int64) error { return a.Mallopt(p, int(v)) })
}

// Trim is malloc_trim(pad): Purge keeping pad bytes at the top of the
// main heap for its next allocations (glibc's name, kept with its
// argument; Purge is Trim(0)). The top beyond pad goes
// back to the OS (a negative sbrk), and so do the free pages inside every
// arena (madvise). It reports whether anything was released.
func (a *Allocator) Trim(pad uintptr) (released bool, err error) {
	if a.mallocTrim == 0 {
		return false, a.lib.Missing("malloc_trim")
	}
	return int32(native.Slow1(a.mallocTrim, pad)) == 1, nil
}

// Purge implements nalloc.Purger: Trim(0).
func (a *Allocator) Purge() error {
	_, err := a.Trim(0)
	return err
}

// Break returns the program break: the end of the heap that glibc grows
// with brk for the main arena, what sbrk(0) returns (read from the kernel
// with osmem.Break). It is an address to compare, not to use. Where the
// break cannot be read, the error wraps errors.ErrUnsupported.
func (a *Allocator) Break() (uintptr, error) {
	brk := osmem.Break()
	if brk == 0 {
		return 0, fmt.Errorf("glibc: program break: %w", errors.ErrUnsupported)
	}
	return brk, nil
}

// Info returns malloc_info(3)'s XML report of every arena: bins, free
// chunks by size, and totals. glibc writes it into a memory stream
// (open_memstream), which is freed before Info returns.
func (a *Allocator) Info() (string, error) {
	if a.mallocInfo == 0 || a.openMemstream == 0 || a.fclose == 0 {
		return "", a.lib.Missing("malloc_info")
	}
	// open_memstream keeps these two addresses and writes them at fclose;
	// the Slow functions' //go:uintptrescapes puts them on the heap,
	// where they stay.
	var buf, size uintptr
	fp := native.Slow2(a.openMemstream, uintptr(unsafe.Pointer(&buf)), uintptr(unsafe.Pointer(&size)))
	if fp == 0 {
		return "", fmt.Errorf("glibc: open_memstream failed")
	}
	rc := int32(native.Slow2(a.mallocInfo, 0, fp))
	native.Slow1(a.fclose, fp)
	defer a.Deallocate(native.Ptr(buf), nalloc.Layout{Size: size, Align: 1}) // the stream's buffer is malloc'ed
	if rc != 0 {
		return "", fmt.Errorf("glibc: malloc_info failed")
	}
	return string(unsafe.Slice((*byte)(native.Ptr(buf)), size)), nil
}
