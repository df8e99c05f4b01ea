// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package glibc

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unsafe"

	"github.com/nalloc/nalloc/internal/ffi"
	"github.com/nalloc/nalloc/internal/native"
)

// Param is a mallopt parameter. The values are glibc's M_* constants from
// <malloc.h>.
type Param int32

// The mallopt parameters. See mallopt(3) for what each does; the ones that
// shape what the probe shows are MmapThreshold (blocks from this size are
// mmapped on their own; glibc raises it when such a block is freed, unless
// it was set explicitly), TrimThreshold (free memory at the top of the heap
// beyond this is given back with a negative sbrk), TopPad (extra asked of
// sbrk each time), MmapMax (how many mmapped blocks at once; 0 disables
// mmap) and ArenaMax (how many arenas threads spread over).
const (
	MxFast        Param = 1  // M_MXFAST
	TrimThreshold Param = -1 // M_TRIM_THRESHOLD
	TopPad        Param = -2 // M_TOP_PAD
	MmapThreshold Param = -3 // M_MMAP_THRESHOLD
	MmapMax       Param = -4 // M_MMAP_MAX
	CheckAction   Param = -5 // M_CHECK_ACTION
	Perturb       Param = -6 // M_PERTURB
	ArenaTest     Param = -7 // M_ARENA_TEST
	ArenaMax      Param = -8 // M_ARENA_MAX
)

// The same parameters under their C names, for code carried over from C.
const (
	M_MXFAST         = MxFast
	M_TRIM_THRESHOLD = TrimThreshold
	M_TOP_PAD        = TopPad
	M_MMAP_THRESHOLD = MmapThreshold
	M_MMAP_MAX       = MmapMax
	M_CHECK_ACTION   = CheckAction
	M_PERTURB        = Perturb
	M_ARENA_TEST     = ArenaTest
	M_ARENA_MAX      = ArenaMax
)

var paramNames = map[Param]string{
	MxFast:        "M_MXFAST",
	TrimThreshold: "M_TRIM_THRESHOLD",
	TopPad:        "M_TOP_PAD",
	MmapThreshold: "M_MMAP_THRESHOLD",
	MmapMax:       "M_MMAP_MAX",
	CheckAction:   "M_CHECK_ACTION",
	Perturb:       "M_PERTURB",
	ArenaTest:     "M_ARENA_TEST",
	ArenaMax:      "M_ARENA_MAX",
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
	for _, p := range []Param{MmapThreshold, TrimThreshold, TopPad, MmapMax, ArenaMax, ArenaTest, MxFast, Perturb, CheckAction} {
		known = append(known, paramNames[p])
	}
	return 0, fmt.Errorf("%w %q; known: %s", ErrUnknownParam, name, strings.Join(known, ", "))
}

// Mallopt sets a malloc parameter for the whole process, as mallopt(3)
// does. glibc checks some values and refuses those out of range (M_MXFAST
// above 160 on 64-bit systems, for one); the error says so. Setting
// M_MMAP_THRESHOLD, M_TRIM_THRESHOLD, M_TOP_PAD or M_MMAP_MAX also turns
// off glibc's dynamic adjustment of the mmap threshold.
func (a *Allocator) Mallopt(param Param, value int) error {
	if a.mallopt == 0 {
		return fmt.Errorf("glibc: mallopt: %w", native.ErrMissing)
	}
	if value < math.MinInt32 || value > math.MaxInt32 {
		return fmt.Errorf("glibc: mallopt(%v, %d): the value does not fit a C int", param, value)
	}
	// mallopt takes and returns C ints: only the low 32 bits of each register count.
	if int32(ffi.Block2(a.mallopt, uintptr(int64(param)), uintptr(int64(value)))) != 1 {
		return fmt.Errorf("glibc: mallopt(%v, %d) refused: the value is out of range for that parameter", param, value)
	}
	return nil
}

// Trim gives memory back to the OS with malloc_trim(pad): the top of the
// main heap beyond pad bytes (a negative sbrk), and the free pages inside
// every arena (madvise). It reports whether anything was released.
func (a *Allocator) Trim(pad uintptr) (bool, error) {
	if a.mallocTrim == 0 {
		return false, fmt.Errorf("glibc: malloc_trim: %w", native.ErrMissing)
	}
	return int32(ffi.Block1(a.mallocTrim, pad)) == 1, nil
}

// Break returns the program break, sbrk(0): the end of the heap that glibc
// grows with brk for the main arena. It is an address to compare, not to
// use.
func (a *Allocator) Break() (uintptr, error) {
	if a.sbrk == 0 {
		return 0, fmt.Errorf("glibc: sbrk: %w", native.ErrMissing)
	}
	return ffi.Block1(a.sbrk, 0), nil
}

// Info returns malloc_info(3)'s XML report of every arena: bins, free
// chunks by size, and totals. glibc writes it into a memory stream
// (open_memstream), which is freed before Info returns.
func (a *Allocator) Info() (string, error) {
	if a.mallocInfo == 0 || a.openMemstream == 0 || a.fclose == 0 {
		return "", fmt.Errorf("glibc: malloc_info: %w", native.ErrMissing)
	}
	// open_memstream keeps these two addresses and writes them at fclose;
	// BlockN's //go:uintptrescapes puts them on the heap, where they stay.
	var buf, size uintptr
	fp := ffi.Block2(a.openMemstream, uintptr(unsafe.Pointer(&buf)), uintptr(unsafe.Pointer(&size)))
	if fp == 0 {
		return "", fmt.Errorf("glibc: open_memstream failed")
	}
	rc := int32(ffi.Block2(a.mallocInfo, 0, fp))
	ffi.Block1(a.fclose, fp)
	defer ffi.Block1(a.f.Free, buf)
	if rc != 0 {
		return "", fmt.Errorf("glibc: malloc_info failed")
	}
	return string(unsafe.Slice((*byte)(ffi.Ptr(buf)), size)), nil
}
