// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package tcmalloc

import (
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nalloc/nalloc/internal/native"
)

func TestReexecEnv(t *testing.T) {
	const pid = 4242
	cases := []struct {
		name string
		env  []string
		want []string // nil: no re-exec
	}{
		{"fresh", []string{"HOME=/root"},
			[]string{"HOME=/root", "LD_PRELOAD=" + Preload, "NALLOC_TCMALLOC_REEXEC=4242"}},
		{"the user's preload kept in front, and saved", []string{"LD_PRELOAD=/opt/libtrace.so", "A=b"},
			[]string{"NALLOC_TCMALLOC_LD_PRELOAD=/opt/libtrace.so", "A=b", "LD_PRELOAD=/opt/libtrace.so " + Preload, "NALLOC_TCMALLOC_REEXEC=4242"}},
		{"a parent's marker and saved preload replaced", []string{"NALLOC_TCMALLOC_REEXEC=17", "NALLOC_TCMALLOC_LD_PRELOAD=x.so", "X=1"},
			[]string{"X=1", "LD_PRELOAD=" + Preload, "NALLOC_TCMALLOC_REEXEC=4242"}},
		{"already re-executed", []string{"LD_PRELOAD=" + Preload, "NALLOC_TCMALLOC_REEXEC=4242"}, nil},
	}
	for _, c := range cases {
		got, ok := native.ReexecEnv(c.env, staticTLS.Marker, pid, staticTLS.Environ)
		if ok != (c.want != nil) || !slices.Equal(got, c.want) {
			t.Errorf("%s: ReexecEnv(%q) = %q, %v; want %q", c.name, c.env, got, ok, c.want)
		}
	}
}

// TestRestoreEnv checks that the re-executed process, and only it, puts
// LD_PRELOAD back as it was before Reexec.
func TestRestoreEnv(t *testing.T) {
	const pid = 4242
	for _, c := range []struct {
		name      string
		env, want map[string]string
	}{
		{"re-executed, had no preload",
			map[string]string{"LD_PRELOAD": Preload, reexecMarker: "4242"},
			map[string]string{reexecMarker: "4242"}},
		{"re-executed, had one",
			map[string]string{"LD_PRELOAD": "a.so " + Preload, savedPreload: "a.so", reexecMarker: "4242"},
			map[string]string{"LD_PRELOAD": "a.so", reexecMarker: "4242"}},
		{"a child of a re-executed process",
			map[string]string{"LD_PRELOAD": "a.so", reexecMarker: "17"},
			map[string]string{"LD_PRELOAD": "a.so", reexecMarker: "17"}},
		{"never re-executed", map[string]string{"LD_PRELOAD": "a.so"}, map[string]string{"LD_PRELOAD": "a.so"}},
	} {
		env := maps.Clone(c.env)
		restoreEnv(pid, func(k string) (string, bool) { v, ok := env[k]; return v, ok },
			func(k, v string) { env[k] = v }, func(k string) { delete(env, k) })
		if !maps.Equal(env, c.want) {
			t.Errorf("%s: %v became %v, want %v", c.name, c.env, env, c.want)
		}
	}
}

// TestThisProcessEnv checks the environment this test binary runs in: if
// TestMain's Reexec re-executed it, the package's init has put LD_PRELOAD
// back, so its children do not inherit the preload.
func TestThisProcessEnv(t *testing.T) {
	reexecuted := os.Getenv(reexecMarker) == strconv.Itoa(os.Getpid())
	t.Logf("re-executed by Reexec: %v; LD_PRELOAD=%q", reexecuted, os.Getenv("LD_PRELOAD"))
	if reexecuted && strings.Contains(os.Getenv("LD_PRELOAD"), "libtcmalloc_minimal") {
		t.Errorf("the re-executed process still has LD_PRELOAD=%q in its environment", os.Getenv("LD_PRELOAD"))
	}
	if _, err := Open(); err != nil {
		t.Fatalf("Open after TestMain's Reexec: %v", err)
	}
}

func TestWithPreload(t *testing.T) {
	got := withPreload([]string{"A=b", "LD_PRELOAD=/opt/x.so", savedPreload + "=old"}, false)
	if want := []string{"A=b", "LD_PRELOAD=/opt/x.so " + Preload}; !slices.Equal(got, want) {
		t.Errorf("withPreload for a child = %q, want %q", got, want)
	}
	// Environ: with the preload exactly when this process was re-executed
	// for it (TestMain's Reexec does that on linux/arm64).
	reexecuted := os.Getenv(reexecMarker) == strconv.Itoa(os.Getpid())
	env := Environ([]string{"A=b"})
	if has := slices.Contains(env, "LD_PRELOAD="+Preload); has != reexecuted {
		t.Errorf("re-executed %v, Environ = %q", reexecuted, env)
	}
}
