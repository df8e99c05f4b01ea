// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package shootout

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nalloc/nalloc/bench/internal/workload"
	"github.com/nalloc/nalloc/internal/native"
)

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Runs != 5 || cfg.Format != "table" || !cfg.Native || cfg.Threads != 16 || cfg.GCLive != 1<<30 ||
		len(cfg.Workloads) != len(workload.All()) || cfg.Timeout != 10*time.Minute {
		t.Errorf("defaults: %+v", cfg)
	}
	// make first, the other Go allocators and peers, then the native
	// backends, each group sorted; the test binary's own allocator is
	// registered too.
	var names []string
	for _, c := range cfg.Allocators {
		names = append(names, c.Name)
	}
	want := []string{"make", "bump", "go", "modernc", "test-go"}
	for _, s := range native.Specs() {
		want = append(want, s.Name)
	}
	if !slices.Equal(names, want) {
		t.Errorf("default allocators %v, want %v", names, want)
	}
	for _, c := range cfg.Allocators {
		if (c.Native != nil) != slices.ContainsFunc(native.Specs(), func(s *native.Spec) bool { return s.Name == c.Name }) {
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
	if cfg.Workloads[0].Name != "arena-boxes" || cfg.Workloads[1].Name != "glibc-simple" {
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
		var out, errOut bytes.Buffer
		code := Run(context.Background(), tc.args, &out, &errOut)
		stdout, stderr := out.String(), errOut.String()
		if code != 2 || stdout != "" || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "go run ./bench -h") {
			t.Errorf("run(%q): exit status %d, stdout %q, stderr %q", tc.args, code, stdout, stderr)
		}
	}
}
