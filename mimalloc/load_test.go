// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package mimalloc_test

import (
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/ffi"
	"github.com/nalloc/nalloc/mimalloc"
)

func TestOpenIsShared(t *testing.T) {
	a, b := open(t), open(t)
	if a != b {
		t.Fatal("Open returned two different Allocators")
	}
	c, err := nalloc.Open("mimalloc")
	if err != nil || c != nalloc.Allocator(a) {
		t.Fatalf(`nalloc.Open("mimalloc") = %v, %v; want the same allocator as mimalloc.Open`, c, err)
	}
	d, err := mimalloc.OpenLibrary(a.Library())
	if err != nil {
		t.Fatal(err)
	}
	if d.Version() != a.Version() {
		t.Errorf("the same library opened by name has version %s, not %s", d.Version(), a.Version())
	}
	if v := a.Version(); !regexp.MustCompile(`^[1-9]\.\d\.\d$`).MatchString(v) {
		t.Errorf("Version() = %q, want major.minor.patch", v)
	}
	t.Logf("%s is mimalloc %s", a.Library(), a.Version())
}

func TestOpenLibraryMissing(t *testing.T) {
	_, err := mimalloc.OpenLibrary("/nonexistent/libmimalloc.so.2")
	if !errors.Is(err, nalloc.ErrLibraryNotFound) {
		t.Fatalf("OpenLibrary of a missing file: err = %v, want ErrLibraryNotFound", err)
	}
	if !strings.Contains(err.Error(), "/nonexistent/libmimalloc.so.2") {
		t.Errorf("error %q does not name the path", err)
	}
	// A library that is not mimalloc loads, and then lacks the symbols.
	if _, err := mimalloc.OpenLibrary("libc.so.6"); err == nil || !strings.Contains(err.Error(), "not a usable mimalloc library") || !strings.Contains(err.Error(), "symbol mi_") {
		t.Errorf("OpenLibrary(libc.so.6): err = %v, want one naming a missing mimalloc symbol", err)
	}
}

// TestLoadDoesNotOverrideMalloc checks what RTLD_LOCAL promises: Debian's
// libmimalloc.so.2 defines malloc and free, but the process's malloc stays
// glibc's. A block from the process's malloc is not in mimalloc's memory;
// one from the Allocator is.
func TestLoadDoesNotOverrideMalloc(t *testing.T) {
	a := open(t)
	mi, err := ffi.Load(a.Library())
	if err != nil {
		t.Fatal(err)
	}
	libc, err := ffi.Load("libc.so.6")
	if err != nil {
		t.Fatal(err)
	}
	var inHeap, miMalloc, libcMalloc, libcFree uintptr
	if err := mi.Symbols(ffi.Sym{Name: "mi_is_in_heap_region", Addr: &inHeap},
		ffi.Sym{Name: "malloc", Addr: &miMalloc}); err != nil {
		t.Fatal(err)
	}
	if err := libc.Symbols(ffi.Sym{Name: "malloc", Addr: &libcMalloc}, ffi.Sym{Name: "free", Addr: &libcFree}); err != nil {
		t.Fatal(err)
	}
	if miMalloc == libcMalloc {
		t.Fatal("libc.so.6's malloc resolves to mimalloc's")
	}
	p := ffi.Slow1(libcMalloc, 100)
	defer ffi.Slow1(libcFree, p)
	if uint8(ffi.Slow1(inHeap, p)) != 0 { // C bool: only the low byte counts
		t.Errorf("a block from the process's malloc is in mimalloc's heap region: mimalloc overrode malloc")
	}
	l := nalloc.Layout{Size: 100, Align: 8}
	q, err := a.Allocate(l)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Deallocate(q, l)
	if uint8(ffi.Slow1(inHeap, uintptr(q))) == 0 {
		t.Errorf("a block from the Allocator is not in mimalloc's heap region")
	}
}

// TestLoadEnvironment runs a child process that opens mimalloc and
// allocates, with and without MIMALLOC_* variables, and checks what the
// library prints: nothing by default; every option with
// MIMALLOC_VERBOSE=1 (so the variables are read at load); and nothing at
// exit with MIMALLOC_SHOW_STATS=1, because Go leaves with the exit_group
// system call and never runs the C atexit handlers, except in -race
// binaries, whose race runtime ends through the C library's exit.
func TestLoadEnvironment(t *testing.T) {
	if os.Getenv("NALLOC_MIMALLOC_CHILD") == "1" {
		a := open(t)
		l := nalloc.Layout{Size: 1000, Align: 8}
		p, err := a.Allocate(l)
		if err != nil {
			t.Fatal(err)
		}
		a.Deallocate(p, l)
		return
	}
	showStats := struct{ want, deny []string }{nil, []string{"heap stats"}}
	if raceEnabled {
		showStats.want, showStats.deny = showStats.deny, nil
	}
	for _, tc := range []struct {
		env        string
		want, deny []string
	}{
		{"", nil, []string{"mimalloc"}},
		{"MIMALLOC_VERBOSE=1", []string{"mimalloc: option 'verbose': 1", "option 'destroy_on_exit'"}, nil},
		{"MIMALLOC_SHOW_STATS=1", showStats.want, showStats.deny},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLoadEnvironment$")
		cmd.Env = append(os.Environ(), "NALLOC_MIMALLOC_CHILD=1")
		for _, kv := range os.Environ() { // the parent's own MIMALLOC_* would confuse the child
			if strings.HasPrefix(kv, "MIMALLOC_") {
				t.Skipf("the environment has %s", kv)
			}
		}
		if tc.env != "" {
			cmd.Env = append(cmd.Env, tc.env)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child with %q: %v\n%s", tc.env, err, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("child with %q: output lacks %q:\n%s", tc.env, w, out)
			}
		}
		for _, d := range tc.deny {
			if strings.Contains(string(out), d) {
				t.Errorf("child with %q: output has %q:\n%s", tc.env, d, out)
			}
		}
	}
}
