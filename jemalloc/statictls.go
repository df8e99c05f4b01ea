// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package jemalloc

import (
	"errors"
	"strconv"
	"strings"

	"github.com/nalloc/nalloc/internal/native"
)

// ErrStaticTLS is wrapped by Open's error when libjemalloc.so.2 is there
// but dlopen refuses it with "cannot allocate memory in static TLS block":
// the library uses initial-exec TLS, and glibc has no static TLS left for
// a library loaded into a running process. Remedies, any one of them (the
// package doc, "Loading", says more):
//
//   - call Reexec first thing in main: it re-executes the program once,
//     with StaticTLSTunable added, only when needed;
//   - start the program with GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384
//     (StaticTLSTunable);
//   - build it with -tags nalloc_jemalloc_linked (LinkedTag), so that the
//     binary loads libjemalloc.so.2 at start.
var ErrStaticTLS = errors.New("jemalloc: no static TLS left for libjemalloc")

// StaticTLSTunable is the glibc tunable that reserves enough static TLS
// for libjemalloc.so.2 to be dlopen'ed after start (its TLS block is
// 2.6 KiB in Debian's 5.3.0; glibc 2.36 reserves 512 bytes by default).
// It takes effect only at process start, through the GLIBC_TUNABLES
// environment variable.
const StaticTLSTunable = "glibc.rtld.optional_static_tls=16384"

// LinkedTag is the build tag that makes the binary name libjemalloc.so.2
// as a DT_NEEDED library, so that the dynamic loader maps it, and reserves
// its TLS, before the program starts.
const LinkedTag = "nalloc_jemalloc_linked"

// staticTLS is what the kernel needs to know to re-execute a process for
// jemalloc's static TLS.
var staticTLS = native.StaticTLS{Err: ErrStaticTLS, Marker: "NALLOC_JEMALLOC_REEXEC", Environ: Environ}

// Reexec makes jemalloc loadable in a process that started without room
// for its static TLS, by re-executing the program with GLIBC_TUNABLES
// extended by StaticTLSTunable. Call it first thing in main, before the
// program starts goroutines, opens files it cares about or reads its
// standard input: on success it does not return, and the program starts
// over from the beginning, with the same arguments, environment (plus the
// tunable and a marker) and process ID.
//
// It re-executes only when needed, and at most once:
//
//   - jemalloc loads (the library was linked in, the tunable is already
//     set, or the library does not need it): Reexec returns nil and does
//     nothing more; the library is now loaded.
//   - jemalloc cannot load for another reason (not installed): Reexec
//     returns Open's error, wrapping nalloc.ErrLibraryNotFound. Re-executing
//     would not help; a program that can run without jemalloc goes on.
//   - The static TLS is missing in a process that Reexec already
//     re-executed (glibc ignored the tunable, as it does for setuid
//     programs): Reexec returns the error, wrapping ErrStaticTLS; build
//     with -tags nalloc_jemalloc_linked instead.
//   - execve fails: Reexec returns why.
//
// Existing tunables in GLIBC_TUNABLES are kept; a smaller
// glibc.rtld.optional_static_tls is raised. The tunable stays in the
// environment, so child processes inherit it; it costs each thread 16 KiB
// of address space for TLS that is mostly unused.
func Reexec() error { return backend.Reexec() }

// Environ returns env (in the form os.Environ gives) with GLIBC_TUNABLES
// extended by StaticTLSTunable, keeping the other tunables: the
// environment to start another process with, Go or C, that will load
// Debian's libjemalloc.so.2 after its start.
func Environ(env []string) []string {
	out := make([]string, 0, len(env)+1)
	tunables := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GLIBC_TUNABLES="); ok {
			tunables = v
			continue
		}
		out = append(out, kv)
	}
	return append(out, "GLIBC_TUNABLES="+withTunable(tunables))
}

// withTunable returns the GLIBC_TUNABLES value list (colon-separated
// name=value pairs) with StaticTLSTunable in it: added, or replacing a
// smaller optional_static_tls; a larger one is kept.
func withTunable(list string) string {
	name, want, _ := strings.Cut(StaticTLSTunable, "=")
	wantN, _ := strconv.ParseUint(want, 10, 64)
	var parts []string
	found := false
	for _, t := range strings.Split(list, ":") {
		if t == "" {
			continue
		}
		if n, v, _ := strings.Cut(t, "="); n == name {
			found = true
			if have, err := strconv.ParseUint(v, 0, 64); err != nil || have < wantN {
				t = StaticTLSTunable
			}
		}
		parts = append(parts, t)
	}
	if !found {
		parts = append(parts, StaticTLSTunable)
	}
	return strings.Join(parts, ":")
}
