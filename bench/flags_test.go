// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Runs != 5 || cfg.Format != "table" || !cfg.Native || cfg.Threads != 16 || cfg.GCLive != 1<<30 ||
		len(cfg.Workloads) != len(workloads) || cfg.Timeout != 10*time.Minute {
		t.Errorf("defaults: %+v", cfg)
	}
	// make first, the other Go allocators and peers, then the native
	// backends, each group sorted; the test binary's own allocators are
	// registered too.
	var names []string
	for _, c := range cfg.Allocators {
		names = append(names, c.Name)
	}
	want := []string{"make", "bump", "go", "modernc", "test-arena", "test-broken", "test-failing", "test-tuner"}
	for _, s := range nativeSpecs() {
		want = append(want, s.Name)
	}
	if !slices.Equal(names, want) {
		t.Errorf("default allocators %v, want %v", names, want)
	}
	for _, c := range cfg.Allocators {
		if (c.Native != nil) != (specByName(c.Name) != nil) {
			t.Errorf("%s: native %v", c.Name, c.Native)
		}
	}
	if !slices.Equal(cfg.Params.ThreadCounts, []int{1, 2, 4, 8, 16}) {
		t.Errorf("thread counts %v", cfg.Params.ThreadCounts)
	}

	cfg, err = parseFlags([]string{"-quick", "-threads", "6", "-no-native", "-allocators", "glibc, go,glibc",
		"-workloads", "arena-boxes,glibc-simple", "-format", "csv", "-chart", "x.SVG", "-touch"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Runs != 3 || cfg.Native || cfg.GCLive != 64<<20 || cfg.Format != "csv" || !cfg.Params.Touch {
		t.Errorf("-quick etc.: %+v", cfg)
	}
	if len(cfg.Allocators) != 2 || cfg.Allocators[0].Name != "glibc" || cfg.Allocators[1].Name != "go" {
		t.Errorf("allocators %v, want [glibc go] (duplicates dropped, order kept)", cfg.Allocators)
	}
	if cfg.Workloads[0].name != "arena-boxes" || cfg.Workloads[1].name != "glibc-simple" {
		t.Errorf("workloads not in the order given")
	}
	if !slices.Equal(cfg.Params.ThreadCounts, []int{1, 2, 4, 6}) {
		t.Errorf("-threads 6: counts %v, want 1 2 4 6", cfg.Params.ThreadCounts)
	}
	// An explicit -runs wins over -quick's.
	if cfg, _ := parseFlags([]string{"-quick", "-runs", "7"}, io.Discard); cfg.Runs != 7 {
		t.Errorf("-quick -runs 7: runs %d", cfg.Runs)
	}
	// -library adds a column under the backend, after the others.
	cfg, err = parseFlags([]string{"-allocators", "go", "-library", "glibc=/lib/x86_64-linux-gnu/libc.so.6"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Allocators) != 2 || cfg.Allocators[1].Name != "glibc@libc.so.6" || cfg.Allocators[1].Native.Name != "glibc" ||
		cfg.Allocators[1].Library != "/lib/x86_64-linux-gnu/libc.so.6" {
		t.Errorf("-library: %+v", cfg.Allocators)
	}
}

func TestParseFlagsErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // in the message
	}{
		{[]string{"-runs", "0"}, "-runs 0: give 1 to 1000"},
		{[]string{"-runs", "x"}, `invalid value "x" for flag -runs`},
		{[]string{"-format", "xml"}, `-format "xml": use one of table, csv, json, benchstat`},
		{[]string{"-chart", "out.jpg"}, "must end in .svg or .png"},
		{[]string{"-allocators", "glbc"}, `unknown allocator "glbc"; known: make, bump, go, modernc,`},
		{[]string{"-library", "glibc"}, `"glibc" is not backend=path`},
		{[]string{"-library", "nope=/lib/libc.so.6"}, `"nope" is not a native backend; known: glibc,`},
		{[]string{"-library", "mimalloc=/no/such/libmimalloc.so"}, "no such file or directory"},
		{[]string{"-library", "glibc=libc.so.6", "-library", "glibc=libc.so.6"}, "a column glibc@libc.so.6 is there already"},
		{[]string{"-allocators", "go,,glibc"}, "empty name"},
		{[]string{"-workloads", "glibc-smple"}, `unknown workload "glibc-smple"; known: glibc-simple,`},
		{[]string{"-threads", "0"}, "-threads 0"},
		{[]string{"-gc-live", "12 parsecs"}, `unknown unit "parsecs"`},
		{[]string{"-gc-live", "1KiB"}, "at least 1MiB"},
		{[]string{"-native", "-no-native"}, "contradict"},
		{[]string{"-timeout", "0s"}, "positive duration"},
		{[]string{"-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"-quick", "extra"}, `unexpected argument "extra"`},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseFlags(%q) = %v, want a usage error with %q", tc.args, err, tc.want)
		}
		// Through the command: exit status 2, the message and a hint.
		code, stdout, stderr := runCmd(t, tc.args...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "go run ./bench -h") {
			t.Errorf("run(%q): exit status %d, stdout %q, stderr %q", tc.args, code, stdout, stderr)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"4096": 4096, "64MiB": 64 << 20, "64 mib": 64 << 20, "1.5GiB": 3 << 29, "1GB": 1e9,
		"2K": 2048, "1t": 1 << 40, "7B": 7,
	} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "1.2.3MiB", "-5MiB", "1 furlong", "1e30TiB"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q): no error", in)
		}
	}
}

// FuzzParseSize checks parseSize on any text: it never panics, never gives
// a negative size, and names the text it refuses; and a number written
// with a unit reads back as that number times the unit.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"64", "64KiB", "1.5GiB", "2mb", " 7 k ", "-1", "1e3", "MiB", "99999999999TiB", ""} {
		f.Add(s, uint32(1), uint8(0))
	}
	units := []string{"", "B", "KiB", "MiB", "GiB", "KB", "MB", "k", "M"}
	f.Fuzz(func(t *testing.T, s string, n uint32, u uint8) {
		v, err := parseSize(s)
		if err == nil && v < 0 {
			t.Fatalf("parseSize(%q) = %d", s, v)
		}
		if err != nil && !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) {
			t.Fatalf("parseSize(%q): the error %q does not name the input", s, err)
		}
		unit := units[int(u)%len(units)]
		text := fmt.Sprintf("%d%s", n, unit)
		v, err = parseSize(text)
		if want := int64(float64(n) * sizeUnits[strings.ToLower(unit)]); err != nil || v != want {
			t.Fatalf("parseSize(%q) = %d, %v; want %d", text, v, err, want)
		}
	})
}
