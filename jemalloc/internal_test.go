// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package jemalloc

import (
	"slices"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/ffi"
	"github.com/nalloc/nalloc/internal/native"
)

func openT(t *testing.T) *Allocator {
	t.Helper()
	a, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestAlignFlags checks the rule alignFlags rests on: wherever it gives
// flags 0, the size class without an alignment flag is the one with it
// (so allocation and sdallocx agree whichever is used), and real blocks
// come out aligned.
func TestAlignFlags(t *testing.T) {
	a := openT(t)
	var sizes []uintptr
	for s := uintptr(1); s <= 64<<10; s++ {
		if s <= 4096 || s%509 == 0 {
			sizes = append(sizes, s)
		}
	}
	sizes = append(sizes, 1<<20, 1<<20+1, 5<<20+12345)
	for _, align := range []uintptr{1, 2, 4, 8, 16, 32, 64, 4096} {
		lg := uintptr(0)
		for 1<<lg < align {
			lg++
		}
		for _, size := range sizes {
			flags := alignFlags(size, align)
			if flags != 0 {
				if flags != lg {
					t.Fatalf("alignFlags(%d, %d) = %d, want %d", size, align, flags, lg)
				}
				continue
			}
			plain, aligned := ffi.Fast4(a.nallocx, size, 0, 0, 0), ffi.Fast4(a.nallocx, size, lg, 0, 0)
			if plain != aligned {
				t.Fatalf("size %d align %d: nallocx without the flag = %d, with MALLOCX_LG_ALIGN(%d) = %d",
					size, align, plain, lg, aligned)
			}
			if size%97 == 0 || size <= 64 {
				p := ffi.Slow2(a.mallocx, size, 0)
				if p%align != 0 {
					t.Fatalf("mallocx(%d, 0) = %#x, not aligned to %d", size, p, align)
				}
				ffi.Slow3(a.sdallocx, p, size, 0)
			}
		}
	}
}

// TestSizeClassInvariant checks what sized deallocation relies on: after
// Allocate, Grow and Shrink, the block's real size is the size class of
// its layout, which is all sdallocx knows.
func TestSizeClassInvariant(t *testing.T) {
	a := openT(t)
	ar, err := a.NewHeap()
	if err != nil {
		t.Fatal(err)
	}
	defer ar.Destroy()
	layouts := []nalloc.Layout{}
	for _, size := range []uintptr{0, 1, 7, 8, 9, 16, 17, 40, 48, 100, 1000, 4096, 14336, 14337, 16384,
		20000, 65536, 100000, 300 << 10, 1 << 20, 3<<20 + 5} {
		for _, align := range []uintptr{1, 8, 16, 32, 64, 4096, 64 << 10} {
			layouts = append(layouts, nalloc.Layout{Size: size, Align: align})
		}
	}
	type allocator interface {
		nalloc.Allocator
		UsableSize(unsafe.Pointer) uintptr
	}
	for _, al := range []allocator{a, ar} {
		check := func(op string, p unsafe.Pointer, l nalloc.Layout) {
			t.Helper()
			if got, want := al.UsableSize(p), a.SizeClass(l); got != want {
				t.Fatalf("%T: after %s, a %v block has real size %d; its size class is %d", al, op, l, got, want)
			}
		}
		for i, old := range layouts {
			p, err := al.Allocate(old)
			if err != nil {
				t.Fatal(err)
			}
			check("Allocate", p, old)
			// Resize to a few others, in both directions.
			for j := i % 7; j < len(layouts); j += 7 {
				new := layouts[j]
				var q unsafe.Pointer
				if new.Size >= old.Size {
					q, err = al.Grow(p, old, new)
				} else {
					q, err = al.Shrink(p, old, new)
				}
				if err != nil {
					t.Fatal(err)
				}
				check("resize from "+old.String(), q, new)
				p, old = q, new
			}
			al.Deallocate(p, old)
		}
	}
}

// smear fills n bytes at p with 0xff.
func smear(p unsafe.Pointer, n uintptr) {
	b := unsafe.Slice((*byte)(p), n)
	for i := range b {
		b[i] = 0xff
	}
}

// firstNonZero returns the offset of the first byte in [from, to) at p
// that is not zero, or -1.
func firstNonZero(p unsafe.Pointer, from, to uintptr) int {
	for i := from; i < to; i++ {
		if *(*byte)(unsafe.Add(p, i)) != 0 {
			return int(i)
		}
	}
	return -1
}

// TestZeroBoundary pins down what MALLOCX_ZERO promises when a block
// grows, and so why GrowZeroed clears bytes itself: jemalloc zeroes from
// the old block's real size (its size class), not from the size asked
// for, whether the block grows in place (xallocx, or rallocx's in-place
// path) or moves (rallocx copies the whole old real size). With the slack
// of a block made dirty, the raw calls leave it dirty; GrowZeroed clears
// it.
func TestZeroBoundary(t *testing.T) {
	a := openT(t)
	ar, err := a.NewHeap()
	if err != nil {
		t.Fatal(err)
	}
	defer ar.Destroy()
	flags := ar.flags
	// Large sizes in jemalloc's pages: small classes end at 3.5 pages (14
	// KiB with Debian's amd64 4 KiB pages, 224 KiB with its arm64 64 KiB
	// ones). 4.5 pages has slack up to its class, 5 pages.
	page := uintptr(a.page)
	large, larger := 4*page+page/2, 12*page+page/2
	cases := []struct {
		name        string
		old, new    uintptr
		useX        bool // xallocx instead of rallocx
		mustStayPut bool
	}{
		{"small same class, rallocx", 40, 44, false, true},
		{"small to larger class, rallocx (moves)", 40, 100, false, false},
		{"large, rallocx", large, larger, false, false},
		{"large to huge, rallocx", large, 9 << 20, false, false},
		{"large in place, xallocx", large, larger, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := ffi.Slow2(a.mallocx, c.old, flags)
			real := ffi.Slow2(a.sallocx, p, 0)
			smear(ffi.Ptr(p), real) // the caller's bytes and the slack
			var q uintptr
			if c.useX {
				if got := ffi.Slow4(a.xallocx, p, c.new, 0, flags|flagZero); got < c.new {
					t.Skipf("xallocx could not grow in place (real size %d)", got)
				}
				q = p
			} else {
				q = ffi.Slow3(a.rallocx, p, c.new, flags|flagZero)
			}
			if c.mustStayPut && q != p {
				t.Fatalf("the block moved from %#x to %#x", p, q)
			}
			// Past the old real size: zero.
			if off := firstNonZero(ffi.Ptr(q), real, c.new); off >= 0 {
				t.Errorf("byte %d (old real size %d) is not zero after growing with MALLOCX_ZERO", off, real)
			}
			// Between the old size and the old real size: what the old
			// block held: MALLOCX_ZERO does not reach back into the slack.
			// (Were jemalloc to clear it, GrowZeroed's clearing would be
			// redundant, not wrong; the package doc would need fixing.)
			if real > c.old && firstNonZero(ffi.Ptr(q), c.old, min(real, c.new)) < 0 {
				t.Errorf("jemalloc zeroed the slack [%d, %d) too, unlike its documentation", c.old, real)
			}
			ffi.Slow3(a.sdallocx, q, c.new, flags)

			// GrowZeroed, from the same dirty state.
			old := nalloc.Layout{Size: c.old, Align: 1}
			new := nalloc.Layout{Size: c.new, Align: 1}
			b, err := ar.Allocate(old)
			if err != nil {
				t.Fatal(err)
			}
			smear(b, ar.UsableSize(b))
			b2, err := ar.GrowZeroed(b, old, new)
			if err != nil {
				t.Fatal(err)
			}
			if off := firstNonZero(b2, c.old, c.new); off >= 0 {
				t.Errorf("GrowZeroed(%v -> %v): byte %d is not zero", old, new, off)
			}
			ar.Deallocate(b2, new)
		})
	}
}

func TestReexecEnv(t *testing.T) {
	const pid = 4242
	cases := []struct {
		name string
		env  []string
		want []string // nil: no re-exec
	}{
		{"fresh", []string{"HOME=/root"},
			[]string{"HOME=/root", "GLIBC_TUNABLES=" + StaticTLSTunable, "NALLOC_JEMALLOC_REEXEC=4242"}},
		{"other tunables kept", []string{"GLIBC_TUNABLES=glibc.malloc.arena_max=2", "A=b"},
			[]string{"A=b", "GLIBC_TUNABLES=glibc.malloc.arena_max=2:" + StaticTLSTunable, "NALLOC_JEMALLOC_REEXEC=4242"}},
		{"smaller value raised", []string{"GLIBC_TUNABLES=glibc.rtld.optional_static_tls=512:glibc.malloc.arena_max=2"},
			[]string{"GLIBC_TUNABLES=" + StaticTLSTunable + ":glibc.malloc.arena_max=2", "NALLOC_JEMALLOC_REEXEC=4242"}},
		{"larger value kept", []string{"GLIBC_TUNABLES=glibc.rtld.optional_static_tls=0x10000"},
			[]string{"GLIBC_TUNABLES=glibc.rtld.optional_static_tls=0x10000", "NALLOC_JEMALLOC_REEXEC=4242"}},
		{"a parent's marker replaced", []string{"NALLOC_JEMALLOC_REEXEC=17", "X=1"},
			[]string{"X=1", "GLIBC_TUNABLES=" + StaticTLSTunable, "NALLOC_JEMALLOC_REEXEC=4242"}},
		{"already re-executed", []string{"GLIBC_TUNABLES=" + StaticTLSTunable, "NALLOC_JEMALLOC_REEXEC=4242"}, nil},
	}
	for _, c := range cases {
		got, ok := native.ReexecEnv(c.env, staticTLS.Marker, pid, staticTLS.Environ)
		if ok != (c.want != nil) || !slices.Equal(got, c.want) {
			t.Errorf("%s: ReexecEnv(%q) = %q, %v; want %q", c.name, c.env, got, ok, c.want)
		}
	}
}
