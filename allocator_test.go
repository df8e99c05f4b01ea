// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/nalloc/nalloc"
)

func TestNewLayout(t *testing.T) {
	tests := []struct {
		size, align uintptr
		ok          bool
		why         string
	}{
		{0, 1, true, ""},
		{64, 8, true, ""},
		{1 << 62, 4096, true, ""},
		{math.MaxInt, 1, true, ""},
		{math.MaxInt - 4095, 4096, true, ""},
		{0, 1 << 63, true, ""},
		{8, 0, false, "Align is 0"},
		{8, 3, false, "Align 3 is not a power of two"},
		{8, 48, false, "Align 48 is not a power of two"},
		{math.MaxInt - 4094, 4096, false, "exceeds math.MaxInt"},
		{math.MaxInt + 1, 1, false, "exceeds math.MaxInt"},
		{1, 1 << 63, false, "exceeds math.MaxInt"},
	}
	for _, tt := range tests {
		l, err := nalloc.NewLayout(tt.size, tt.align)
		if l != (nalloc.Layout{Size: tt.size, Align: tt.align}) {
			t.Errorf("NewLayout(%d, %d) = %v", tt.size, tt.align, l)
		}
		if tt.ok != (err == nil) {
			t.Errorf("NewLayout(%d, %d) err = %v, want ok %v", tt.size, tt.align, err, tt.ok)
			continue
		}
		if err != nil && (!errors.Is(err, nalloc.ErrInvalidLayout) || !strings.Contains(err.Error(), tt.why)) {
			t.Errorf("NewLayout(%d, %d) err = %q, want ErrInvalidLayout saying %q", tt.size, tt.align, err, tt.why)
		}
	}
}

// rec's fields are never read: only its size and alignment matter.
type rec struct {
	A int64
	B [3]int32
	C byte
}

func TestLayoutOfAndArrayLayout(t *testing.T) {
	if got, want := nalloc.LayoutOf[rec](), (nalloc.Layout{Size: 24, Align: 8}); got != want {
		t.Errorf("LayoutOf[rec]() = %v, want %v", got, want)
	}
	if got := nalloc.LayoutOf[struct{}](); got != (nalloc.Layout{Size: 0, Align: 1}) {
		t.Errorf("LayoutOf[struct{}]() = %v", got)
	}
	l, err := nalloc.ArrayLayout[rec](1000)
	if err != nil || l != (nalloc.Layout{Size: 24000, Align: 8}) {
		t.Errorf("ArrayLayout[rec](1000) = %v, %v", l, err)
	}
	for _, n := range []int{-1, math.MaxInt / 8} {
		if _, err := nalloc.ArrayLayout[rec](n); !errors.Is(err, nalloc.ErrInvalidLayout) {
			t.Errorf("ArrayLayout[rec](%d) err = %v, want ErrInvalidLayout", n, err)
		}
	}
	if l, err := nalloc.ArrayLayout[struct{}](math.MaxInt); err != nil || l.Size != 0 {
		t.Errorf("ArrayLayout[struct{}](MaxInt) = %v, %v", l, err)
	}
}

func TestValidateGrowShrink(t *testing.T) {
	small, big := nalloc.Layout{Size: 8, Align: 8}, nalloc.Layout{Size: 80, Align: 8}
	if err := nalloc.ValidateGrow(small, big); err != nil {
		t.Error(err)
	}
	if err := nalloc.ValidateGrow(big, small); !errors.Is(err, nalloc.ErrInvalidLayout) ||
		!strings.Contains(err.Error(), "to the smaller") {
		t.Errorf("ValidateGrow(big, small) = %v", err)
	}
	if err := nalloc.ValidateShrink(small, big); !errors.Is(err, nalloc.ErrInvalidLayout) ||
		!strings.Contains(err.Error(), "to the larger") {
		t.Errorf("ValidateShrink(small, big) = %v", err)
	}
	bad := nalloc.Layout{Size: 8, Align: 5}
	if err := nalloc.ValidateShrink(bad, small); !errors.Is(err, nalloc.ErrInvalidLayout) {
		t.Errorf("ValidateShrink(bad, small) = %v", err)
	}
}

// plain hides every optional interface of the allocator it holds, so that
// the helpers take their fallback paths.
type plain struct{ nalloc.Allocator }

func TestZeroedFallbacks(t *testing.T) {
	a := plain{nalloc.NewGoHeap()}
	l := nalloc.Layout{Size: 100, Align: 8}
	p, err := a.Allocate(l)
	if err != nil {
		t.Fatal(err)
	}
	b := unsafe.Slice((*byte)(p), l.Size)
	for i := range b {
		b[i] = 0xee
	}
	a.Deallocate(p, l)
	p, err = nalloc.AllocateZeroed(a, l)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range unsafe.Slice((*byte)(p), l.Size) {
		if c != 0 {
			t.Fatalf("AllocateZeroed: byte %d is %#x", i, c)
		}
		unsafe.Slice((*byte)(p), l.Size)[i] = 1
	}
	big := nalloc.Layout{Size: 1000, Align: 64}
	q, err := nalloc.GrowZeroed(a, p, l, big)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range unsafe.Slice((*byte)(q), big.Size) {
		want := byte(0) // the grown part
		if uintptr(i) < l.Size {
			want = 1 // kept from the old block
		}
		if c != want {
			t.Fatalf("GrowZeroed: byte %d is %#x, want %#x", i, c, want)
		}
	}
	a.Deallocate(q, big)
}

func TestRegistry(t *testing.T) {
	// The wrappers' and containers' tests import backends, which register
	// themselves; "go" is the root package's own.
	names := nalloc.Names()
	if !slices.Contains(names, "go") || !slices.IsSorted(names) {
		t.Fatalf("Names() = %v; want a sorted list with go", names)
	}
	a, err := nalloc.Open("go")
	if err != nil || a == nil {
		t.Fatalf(`Open("go") = %v, %v`, a, err)
	}
	// This test binary links every backend in, so Open never takes the
	// path for a known backend whose import is missing: ask for its error
	// directly.
	for _, name := range []string{"jemalloc", "mimalloc", "bump", "glibc", "tcmalloc", "tbbmalloc"} {
		err := nalloc.UnknownAllocator(name)
		if !errors.Is(err, nalloc.ErrUnknownAllocator) || !strings.Contains(err.Error(), `import _ "github.com/nalloc/nalloc/`+name+`"`) ||
			strings.Contains(err.Error(), "\n") {
			t.Errorf("the error for %q without its import = %v, want the import to add", name, err)
		}
	}
	_, err = nalloc.Open("nosuchalloc")
	if !errors.Is(err, nalloc.ErrUnknownAllocator) || !strings.Contains(err.Error(), "registered: "+strings.Join(names, ", ")) ||
		strings.Contains(err.Error(), "import") || strings.Contains(err.Error(), "mean") {
		t.Errorf(`Open("nosuchalloc") err = %v, want the registered names, and neither an import nor a guess`, err)
	}
	// A typo of a backend's name suggests that name, never an import of a
	// package that does not exist (github.com/nalloc/nalloc/tcmaloc).
	for typo, want := range map[string]string{"tcmaloc": "tcmalloc", "jemaloc": "jemalloc", "glibcc": "glibc", "Go": "go", "mimaloc": "mimalloc"} {
		err := nalloc.UnknownAllocator(typo)
		if !errors.Is(err, nalloc.ErrUnknownAllocator) || !strings.Contains(err.Error(), `did you mean "`+want+`"?`) ||
			strings.Contains(err.Error(), "github.com/nalloc/nalloc/"+typo) {
			t.Errorf("the error for %q = %v, want a suggestion of %q and no import of its own", typo, err, want)
		}
	}

	nalloc.Register("test-registry", func() (nalloc.Allocator, error) { return nalloc.NewGoHeap(), nil })
	if _, err := nalloc.Open("test-registry"); err != nil {
		t.Errorf("Open of a registered name: %v", err)
	}
	for name, register := range map[string]func(){
		"duplicate": func() { nalloc.Register("go", func() (nalloc.Allocator, error) { return nil, nil }) },
		"nil open":  func() { nalloc.Register("x", nil) },
		"no name":   func() { nalloc.Register("", func() (nalloc.Allocator, error) { return nil, nil }) },
	} {
		func() {
			defer func() {
				if msg, _ := recover().(string); !strings.HasPrefix(msg, "nalloc: Register") {
					t.Errorf("Register with %s: recover() = %q, want a nalloc panic", name, msg)
				}
			}()
			register()
		}()
	}
}

// Errors are one line, lower case after the package's prefix, and wrap
// their sentinel: the advice lives in the sentinel's doc.
func TestErrorsOneLine(t *testing.T) {
	_, layoutErr := nalloc.NewLayout(8, 3)
	_, arrayErr := nalloc.ArrayLayout[uint64](-1)
	_, mapErr := nalloc.NewMap[uint64, uint64](nil, 0)
	_, vecErr := nalloc.NewVec[uint64](nil, 0)
	_, capErr := nalloc.NewMap[uint64, uint64](nalloc.NewGoHeap(), -1)
	_, typeErr := nalloc.NewVec[*int](nalloc.NewGoHeap(), 0)
	_, openErr := nalloc.Open("tcmaloc")
	_, pacerErr := nalloc.StartGCPacer(nalloc.GCPacerAllocators())
	for _, tc := range []struct {
		err, sentinel error
	}{
		{layoutErr, nalloc.ErrInvalidLayout},
		{arrayErr, nalloc.ErrInvalidLayout},
		{nalloc.ValidateGrow(nalloc.Layout{Size: 8, Align: 8}, nalloc.Layout{Size: 1, Align: 8}), nalloc.ErrInvalidLayout},
		{mapErr, nalloc.ErrNilAllocator},
		{vecErr, nalloc.ErrNilAllocator},
		{capErr, nalloc.ErrInvalidLayout},
		{typeErr, nalloc.ErrPointerType},
		{openErr, nalloc.ErrUnknownAllocator},
		{pacerErr, nalloc.ErrGCPacerOption},
		{nalloc.Purge(nalloc.NewCounting(bare{nalloc.NewGoHeap()})), nalloc.ErrUnsupported},
		{nalloc.OutOfMemory("glibc", nalloc.Layout{Size: 1 << 62, Align: 8}), nalloc.ErrOutOfMemory},
	} {
		msg := fmt.Sprint(tc.err)
		rest, prefixed := strings.CutPrefix(msg, "nalloc: ")
		if !errors.Is(tc.err, tc.sentinel) || !prefixed || strings.Contains(msg, "\n") ||
			rest == "" || strings.ToLower(rest[:1]) != rest[:1] {
			t.Errorf("%q: want one line, \"nalloc: \" and lower case, wrapping %v", msg, tc.sentinel)
		}
	}
}
