// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package native_test

import (
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/ctest"
	"github.com/nalloc/nalloc/internal/native"
	"github.com/nalloc/nalloc/internal/opened"
	"github.com/nalloc/nalloc/nalloctest"
)

var missing = native.Spec{
	Name:    "fakealloc",
	Sonames: []string{"libfakealloc.so.3", "libfakealloc.so"},
	Package: "libfakealloc3",
}

func TestLoadMissingNamesThePackage(t *testing.T) {
	_, err := missing.Load("")
	if !errors.Is(err, nalloc.ErrLibraryNotFound) {
		t.Fatalf("Load of a missing library: err = %v, want ErrLibraryNotFound", err)
	}
	if strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "fakealloc: ") {
		t.Errorf("error %q: want one line prefixed with the backend's name", err)
	}
	for _, want := range []string{"fakealloc", "libfakealloc.so.3", "Debian package libfakealloc3"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	_, err = missing.Load("/nonexistent/libfakealloc.so.3")
	if !errors.Is(err, nalloc.ErrLibraryNotFound) || !strings.Contains(err.Error(), "/nonexistent/libfakealloc.so.3") {
		t.Errorf("Load of a missing path: err = %v, want ErrLibraryNotFound naming the path", err)
	}
}

// libc is a Spec for the C library, whose malloc every test machine has.
var libc = native.Spec{
	Name:    "kerneltest",
	Sonames: []string{"libc.so.6"},
	Package: "libc6",
	Malloc: native.MallocSpec{
		MinAlign: 16, Malloc: "malloc", Calloc: "calloc", Realloc: "realloc", Free: "free",
		UsableSize: "malloc_usable_size", Aligned: "memalign",
	},
}

func TestSymbolsNamesTheMissingOne(t *testing.T) {
	lib, err := libc.Load("")
	if err != nil {
		t.Fatal(err)
	}
	var malloc, bogus uintptr
	err = lib.Symbols(native.Sym{Name: "malloc", Addr: &malloc}, native.Sym{Name: "fakealloc_malloc", Addr: &bogus})
	if err == nil || !strings.Contains(err.Error(), "fakealloc_malloc") || !strings.Contains(err.Error(), "kerneltest") || malloc == 0 {
		t.Fatalf("Symbols with one missing: err = %v, malloc = %#x", err, malloc)
	}
	lib.Optional(native.Sym{Name: "free", Addr: &malloc}, native.Sym{Name: "fakealloc_free", Addr: &bogus})
	if malloc == 0 || bogus != 0 {
		t.Errorf("Optional: free = %#x, fakealloc_free = %#x; want the first resolved and the second 0", malloc, bogus)
	}
	if err := lib.Missing("fakealloc_free"); !errors.Is(err, native.ErrMissing) || !errors.Is(err, nalloc.ErrUnsupported) || !strings.Contains(err.Error(), "fakealloc_free") {
		t.Errorf("Missing: %v", err)
	}
	spec := libc.Malloc
	spec.Aligned = "fakealloc_memalign"
	if _, err := lib.Malloc(spec); err == nil || !strings.Contains(err.Error(), "fakealloc_memalign") {
		t.Errorf("Malloc with a missing function: err = %v, want one naming it", err)
	}
}

// kernelAllocator is the smallest backend: the adapter, and the
// capabilities every backend must have, doing nothing.
type kernelAllocator struct{ native.Malloc }

func (*kernelAllocator) Purge() error              { return nil }
func (*kernelAllocator) Version() string           { return "" }
func (*kernelAllocator) Tune(name, _ string) error { return errors.New("no setting " + name) }

var kernel = native.Backend[*kernelAllocator]{
	Spec: libc,
	New:  func(_ *native.Lib, m native.Malloc) (*kernelAllocator, error) { return &kernelAllocator{m}, nil },
}

func init() { kernel.Register() }

// TestBackend runs the conformance suite on the adapter alone, and checks
// what the kernel does for a backend: one allocator per path, the
// registration under its name, the Spec listed with its C pair.
func TestBackend(t *testing.T) {
	a, err := kernel.Open("")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := kernel.Open(""); b != a {
		t.Errorf("Open twice gave two allocators")
	}
	if b, err := kernel.Open("libc.so.6"); err != nil || b == a {
		t.Errorf("Open of another path = %p, %v; want another allocator", b, err)
	}
	if n, err := nalloc.Open("kerneltest"); err != nil || n != nalloc.Allocator(a) {
		t.Errorf("nalloc.Open(kerneltest) = %v, %v; want the registered allocator", n, err)
	}
	i := slices.IndexFunc(native.Specs(), func(s *native.Spec) bool { return s.Name == "kerneltest" })
	if i < 0 {
		t.Fatalf("Specs() does not list the registered backend")
	}
	s := native.Specs()[i]
	if s.Pair != (native.Pair{Alloc: "malloc", Free: "free", Kind: "plain"}) {
		t.Errorf("Spec: Pair %+v", s.Pair)
	}
	if o, err := s.OpenLibrary(""); err != nil || o != nalloc.Allocator(a) {
		t.Errorf("Spec.OpenLibrary = %v, %v", o, err)
	}
	if o, err := s.OpenLibrary("/nonexistent/libc.so.6"); o != nil || !errors.Is(err, nalloc.ErrLibraryNotFound) {
		t.Errorf("Spec.OpenLibrary of a missing file = %v (a nil Allocator is wanted), %v", o, err)
	}
	// The allocator of a path is listed for the GC pacer's Purge rounds
	// once, however often it is opened.
	var listed int
	for _, o := range opened.Append(nil) {
		if o == any(a) {
			listed++
		}
	}
	if listed != 1 {
		t.Errorf("the allocator is listed %d times in internal/opened, want once", listed)
	}
	// With its fast path, which Profiled calls: malloc and free, for
	// small blocks at malloc's alignment.
	if f := opened.FastPath(a); f == nil || f.Malloc == 0 || f.Free == 0 || !f.Allocates(64, 8) || f.Allocates(64, 4096) || !f.Frees(64) {
		t.Errorf("opened.FastPath = %+v, want malloc and free for 64 bytes at 8, not at 4096", f)
	}
	nalloctest.Run(t, nalloctest.Config{
		New:         func(testing.TB) nalloc.Allocator { return a },
		MayAllocate: native.FastPathAllocates,
	})
}

// TestFastPathValidates checks the one test on Allocate's fast path: every
// invalid alignment, and every alignment the fast path cannot serve, goes
// to the checked path.
func TestFastPathValidates(t *testing.T) {
	a, err := kernel.Open("")
	if err != nil {
		t.Fatal(err)
	}
	for _, align := range []uintptr{0, 3, 5, 6, 7, 9, 12, 15, 17, 24, 65, 1<<63 + 1, 1<<63 + 8} {
		if p, err := a.Allocate(nalloc.Layout{Size: 8, Align: align}); !errors.Is(err, nalloc.ErrInvalidLayout) {
			t.Errorf("Allocate at Align %d = %p, %v; want ErrInvalidLayout", align, p, err)
		}
	}
	for _, align := range []uintptr{1, 2, 4, 8, 16, 32, 64, 128, 1 << 12, 1 << 16} {
		l := nalloc.Layout{Size: 8, Align: align}
		p, err := a.Allocate(l)
		if err != nil || uintptr(p)%align != 0 {
			t.Errorf("Allocate(%v) = %p, %v", l, p, err)
		}
		a.Deallocate(p, l)
	}
}

// TestSlowAlways checks that a Malloc made always slow takes no fast path,
// by the figure its calls test.
func TestSlowAlways(t *testing.T) {
	lib, err := libc.Load("")
	if err != nil {
		t.Fatal(err)
	}
	m, err := lib.Malloc(libc.Malloc)
	if err != nil {
		t.Fatal(err)
	}
	if got := native.FastBelow(&m); got != native.SlowThreshold {
		t.Errorf("FastBelow = %d, want %d", got, native.SlowThreshold)
	}
	native.SlowAlways(&m)
	if got := native.FastBelow(&m); got != 0 {
		t.Errorf("after SlowAlways, FastBelow = %d", got)
	}
	l := nalloc.Layout{Size: 64, Align: 8}
	p, err := m.Allocate(l)
	if err != nil {
		t.Fatal(err)
	}
	m.Deallocate(p, l)
}

// TestGuard checks the thread guard the kernel gives heaps: a Malloc on
// a "heap" guarded by LockThread serves its own thread and refuses, with
// the guard's error and without calling C, on any other.
func TestGuard(t *testing.T) {
	a, err := kernel.Open("")
	if err != nil {
		t.Fatal(err)
	}
	refusal := errors.New("refused")
	guard, err := native.LockThread(func(op string) error { return refusal })
	if err != nil {
		t.Fatal(err)
	}
	defer runtime.UnlockOSThread()
	if !guard.OnThread() {
		t.Fatal("OnThread is false on the thread that locked")
	}
	// glibc has no heaps: a heap-shaped spec whose "heap" argument is the
	// size malloc gets, a stand-in that shows the heap comes first.
	spec := libc.Malloc
	h, err := native.OnHeap(&a.Malloc, spec, 64, guard, "test heap")
	if err != nil {
		t.Fatal(err)
	}
	l := nalloc.Layout{Size: 8, Align: 8}
	p, err := h.Allocate(l)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.UsableSize(p); got < 64 {
		t.Errorf("the heap's block has %d usable bytes; malloc got the heap argument (64) as its size, so want at least 64", got)
	}
	h.Deallocate(p, l)

	done := make(chan error)
	go func() {
		runtime.LockOSThread() // another thread than the guard's
		defer runtime.UnlockOSThread()
		if guard.OnThread() {
			done <- errors.New("OnThread is true on another thread")
			return
		}
		p, err := h.Allocate(l)
		if p != nil || !errors.Is(err, refusal) {
			done <- errors.New("Allocate on another thread did not refuse")
			return
		}
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// zone is a backend whose Malloc has a zone (MallocSpec.Zone, the shape
// of macOS's malloc_zone_* calls), on the C fixture's zone allocator;
// TestZone names the fixture's path, known only once it is built.
var zone = native.Backend[*kernelAllocator]{
	Spec: native.Spec{Name: "zonetest", Malloc: native.MallocSpec{
		MinAlign: libc.Malloc.MinAlign,
		Zone:     "zone_create",
		Malloc:   "zone_malloc", Calloc: "zone_calloc", Realloc: "zone_realloc", Free: "zone_free",
		UsableSize: "zone_size", Aligned: "zone_memalign",
	}},
	New: func(_ *native.Lib, m native.Malloc) (*kernelAllocator, error) { return &kernelAllocator{m}, nil },
}

func init() { zone.Register() }

// TestZone runs the conformance suite on the zone backend. The fixture's
// zone allocator checks that every call gets the zone first and counts
// the zone's live blocks: none may be left, and no call may have been
// made wrongly (NULL to free, an alignment below a pointer's to
// memalign). The C side of its pair takes the zone.
func TestZone(t *testing.T) {
	zone.Sonames = []string{ctest.Fixture(t).Name()}
	a, err := zone.Open("")
	if err != nil {
		t.Fatal(err)
	}
	z := native.ZoneOf(&a.Malloc)
	if z == 0 {
		t.Fatal("ZoneOf = 0 for a Malloc with a zone")
	}
	plain, err := kernel.Open("")
	if err != nil {
		t.Fatal(err)
	}
	if z := native.ZoneOf(&plain.Malloc); z != 0 {
		t.Errorf("ZoneOf = %#x for a Malloc without a zone", z)
	}
	if zone.Pair != (native.Pair{Alloc: "zone_malloc", Free: "zone_free", Kind: "zone"}) {
		t.Errorf("Pair %+v", zone.Pair)
	}
	nalloctest.Run(t, nalloctest.Config{
		New:         func(testing.TB) nalloc.Allocator { return a },
		MayAllocate: native.FastPathAllocates,
	})
	for _, size := range []uintptr{8, native.SlowThreshold} {
		a.Deallocate(nil, nalloc.Layout{Size: size, Align: 8})
	}
	live, wrong := ctest.Symbol(t, "zone_live"), ctest.Symbol(t, "zone_wrong")
	if n := native.Slow1(live, z); n != 0 {
		t.Errorf("the zone holds %d blocks after the suite, want 0", n)
	}
	if n := native.Slow1(wrong, 0); n != 0 {
		t.Errorf("%d calls to the zone were made wrongly", n)
	}
}

func TestOpenedKeepsOnePerPath(t *testing.T) {
	var o native.Opened[*int]
	calls := 0
	open := func(path string) (*int, error) {
		calls++
		if path == "bad" {
			return nil, errors.New("no")
		}
		v := len(path)
		return &v, nil
	}
	a, _ := o.Get("libx.so", open)
	b, _ := o.Get("libx.so", open)
	c, _ := o.Get("liby.so.2", open)
	if a != b || a == c || *c != 9 || calls != 2 {
		t.Fatalf("Get: %p %p %p, %d opens; want the first two the same and 2 opens", a, b, c, calls)
	}
	for range 2 {
		if v, err := o.Get("bad", open); v != nil || err == nil {
			t.Fatalf("Get of a failing open = %v, %v", v, err)
		}
	}
	if calls != 4 {
		t.Errorf("a failed open was kept: %d opens, want 4", calls)
	}
}

func TestParseInt(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "-1": -1, "4194304": 4 << 20, "0x400000": 4 << 20, "0xB": 11,
		"4MiB": 4 << 20, "4M": 4 << 20, "4MB": 4 << 20, "128k": 128 << 10, " 2 GiB ": 2 << 30, "1T": 1 << 40, "512B": 512,
	} {
		if got, err := native.ParseInt(in); err != nil || got != want {
			t.Errorf("ParseInt(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "four", "4 PiB", "1.5M", "9999999T"} {
		if got, err := native.ParseInt(in); err == nil {
			t.Errorf("ParseInt(%q) = %d, want an error", in, got)
		}
	}
}
