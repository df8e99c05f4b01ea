// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloctest

import (
	"bytes"
	"fmt"
	"slices"
	"unsafe"

	"github.com/nalloc/nalloc"
)

// block is a live allocation with the tag its contents are derived from.
type block struct {
	p   unsafe.Pointer
	l   nalloc.Layout
	tag byte
}

// fullCheckLimit is the size up to which every byte of a block is written
// and checked; beyond it, the first and last 4 KiB and one byte in every
// 4 KiB page between (enough to catch a lost or overlapped page while
// keeping 64 MiB blocks fast).
const fullCheckLimit = 256 << 10

// The pattern of a block tagged tag: byte i is
// basePattern[(i + tag*4099) mod 65536]. 4099 is odd, so the 256 tags give
// 256 different phases of a pattern whose period is 64 KiB; whole runs of
// it are copied and compared with memmove and memcmp, which keeps the
// suite fast under the race detector.
var basePattern = func() (p [1 << 16]byte) {
	for i := range p {
		p[i] = byte(i) ^ byte(i>>8)*13
	}
	return p
}()

var zeros [1 << 16]byte

func phase(tag byte, i uintptr) uintptr { return (i + uintptr(tag)*4099) % (1 << 16) }

// regions returns the [start, end) ranges of a block of n bytes that fill
// writes and check reads.
func regions(n uintptr) [][2]uintptr {
	if n <= fullCheckLimit {
		return [][2]uintptr{{0, n}}
	}
	rs := [][2]uintptr{{0, 4096}, {n - 4096, n}}
	for i := uintptr(4096); i < n-4096; i += 4096 {
		at := i + i/4096%4096
		rs = append(rs, [2]uintptr{at, at + 1})
	}
	return rs
}

func bytesOf(p unsafe.Pointer, from, to uintptr) []byte {
	return unsafe.Slice((*byte)(unsafe.Add(p, from)), to-from)
}

// fill writes the block's pattern over its first n bytes.
func fill(p unsafe.Pointer, n uintptr, tag byte) {
	for _, r := range regions(n) {
		dst := bytesOf(p, r[0], r[1])
		for ph := phase(tag, r[0]); len(dst) > 0; ph = 0 {
			dst = dst[copy(dst, basePattern[ph:]):]
		}
	}
}

// smear sets the first n bytes at p to 0xff, as a dirty block would be.
func smear(p unsafe.Pointer, n uintptr) {
	for _, r := range regions(n) {
		dst := bytesOf(p, r[0], r[1])
		for len(dst) > 0 {
			dst = dst[copy(dst, ones[:]):]
		}
	}
}

var ones = func() (b [1 << 16]byte) {
	for i := range b {
		b[i] = 0xff
	}
	return b
}()

// check returns an error describing the first byte that fill(p, n, tag)
// wrote and that does not hold the pattern.
func check(p unsafe.Pointer, n uintptr, tag byte) error { return checkPrefix(p, n, n, tag) }

// checkPrefix is check for a block that fill(p, written, tag) wrote and
// that now has only n bytes (after a Shrink).
func checkPrefix(p unsafe.Pointer, written, n uintptr, tag byte) error {
	for _, r := range regions(written) {
		if r[0] >= n {
			continue
		}
		from, to := r[0], min(r[1], n)
		got := bytesOf(p, from, to)
		for ph := phase(tag, from); len(got) > 0; ph = 0 {
			exp := basePattern[ph:min(ph+uintptr(len(got)), 1<<16)]
			if !bytes.Equal(got[:len(exp)], exp) {
				return mismatch(p, got[:len(exp)], exp)
			}
			got = got[len(exp):]
		}
	}
	return nil
}

// checkZero returns an error if a byte in [from, to) of the block at p is
// not zero.
func checkZero(p unsafe.Pointer, from, to uintptr) error {
	for _, r := range regions(to - from) {
		got := bytesOf(p, from+r[0], from+r[1])
		for len(got) > 0 {
			exp := zeros[:min(len(got), len(zeros))]
			if !bytes.Equal(got[:len(exp)], exp) {
				return mismatch(p, got[:len(exp)], exp)
			}
			got = got[len(exp):]
		}
	}
	return nil
}

// mismatch describes the first difference between got, which is memory
// inside the block at p, and exp.
func mismatch(p unsafe.Pointer, got, exp []byte) error {
	for i := range got {
		if got[i] != exp[i] {
			at := uintptr(unsafe.Pointer(&got[i])) - uintptr(p)
			return fmt.Errorf("byte %d of the block at %p is %#02x, want %#02x", at, p, got[i], exp[i])
		}
	}
	return nil
}

// aligned reports whether p is a multiple of align.
func aligned(p unsafe.Pointer, align uintptr) bool { return uintptr(p)%align == 0 }

// overlap returns an error naming two live blocks that share a byte.
func overlap(blocks []block) error {
	sorted := make([]block, 0, len(blocks))
	for _, b := range blocks {
		if b.l.Size > 0 {
			sorted = append(sorted, b)
		}
	}
	slices.SortFunc(sorted, func(x, y block) int {
		switch {
		case uintptr(x.p) < uintptr(y.p):
			return -1
		case uintptr(x.p) > uintptr(y.p):
			return 1
		}
		return 0
	})
	for i := 1; i < len(sorted); i++ {
		a, b := sorted[i-1], sorted[i]
		if uintptr(a.p)+a.l.Size > uintptr(b.p) {
			return fmt.Errorf("live blocks overlap: %p %v and %p %v", a.p, a.l, b.p, b.l)
		}
	}
	return nil
}

// alignments returns 1, 2, 4, ... 64 KiB.
func alignments() []uintptr {
	var as []uintptr
	for a := uintptr(1); a <= 64<<10; a <<= 1 {
		as = append(as, a)
	}
	return as
}

// sizes are the block sizes every alignment is tried with: around size
// classes, pages and the native backends' slow threshold.
var sizes = []uintptr{0, 1, 7, 8, 9, 15, 16, 17, 31, 48, 63, 64, 100, 255, 256, 1000,
	4095, 4096, 4097, 16 << 10, 65535, 65536, 256<<10 - 1, 256 << 10, 1<<20 + 3}
