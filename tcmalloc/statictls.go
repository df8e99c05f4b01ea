// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package tcmalloc

import (
	"errors"
	"os"
	"strconv"
	"strings"

	"github.com/nalloc/nalloc/internal/native"
)

// ErrStaticTLS is wrapped by Open's error when libtcmalloc_minimal.so.4 is
// there but dlopen refuses it with "cannot allocate memory in static TLS
// block", as glibc does on linux/arm64: its initial-exec TLS is aligned to
// 64 bytes, and glibc gives such a block static TLS only at process start
// there (no tunable changes that). Remedies, either of them (the package
// doc, "Loading TCMalloc into a Go process", says more):
//
//   - call Reexec first thing in main: it re-executes the program once,
//     with the library preloaded behind glibc, only when needed;
//   - start the program with LD_PRELOAD="libc.so.6 libstdc++.so.6
//     libtcmalloc_minimal.so.4" (Preload).
var ErrStaticTLS = errors.New("tcmalloc: libtcmalloc_minimal cannot get static TLS in a running process")

// Preload is the LD_PRELOAD list that loads TCMalloc at process start
// without letting it replace anything: glibc and libstdc++ come first, so
// malloc, mmap, sbrk and operator new stay theirs (TCMalloc defines all
// of them), and libtcmalloc_minimal.so.4 gets its static TLS from the
// block glibc sizes at start.
const Preload = "libc.so.6 libstdc++.so.6 libtcmalloc_minimal.so.4"

const (
	// reexecMarker is set, to the process ID, in the environment of a
	// process that Reexec re-executed (see native.ReexecEnv).
	reexecMarker = "NALLOC_TCMALLOC_REEXEC"
	// savedPreload holds the LD_PRELOAD the program had before Reexec, if
	// it had one, for the re-executed process to put back.
	savedPreload = "NALLOC_TCMALLOC_LD_PRELOAD"
)

// staticTLS is what the kernel needs to know to re-execute a process for
// TCMalloc's static TLS: the preload, with the user's LD_PRELOAD saved
// for restoreEnv.
var staticTLS = native.StaticTLS{
	Err:     ErrStaticTLS,
	Marker:  reexecMarker,
	Environ: func(env []string) []string { return withPreload(env, true) },
}

// Reexec makes TCMalloc loadable in a process where dlopen cannot give it
// static TLS (ErrStaticTLS; every process on linux/arm64), by
// re-executing the program with Preload appended to LD_PRELOAD. Call it
// first thing in main, before the program starts goroutines, opens files
// it cares about or reads its standard input: on success it does not
// return, and the program starts over with the same arguments, process ID
// and environment. As jemalloc.Reexec, it re-executes only when needed
// and at most once:
//
//   - TCMalloc loads (always on linux/amd64, or it was preloaded): Reexec
//     returns nil; the library is now loaded.
//   - TCMalloc cannot load for another reason (not installed): Reexec
//     returns Open's error, wrapping nalloc.ErrLibraryNotFound.
//   - The static TLS is missing in a process that Reexec already
//     re-executed (glibc ignores LD_PRELOAD in setuid programs): Reexec
//     returns the error, wrapping ErrStaticTLS.
//   - execve fails: Reexec returns why.
//
// The re-executed process puts LD_PRELOAD back as it was when the package
// initialises, so child processes (of any architecture) do not inherit
// the preload.
func Reexec() error { return backend.Reexec() }

// withPreload returns env (in the form os.Environ gives) with Preload
// appended to LD_PRELOAD, and, if save, the LD_PRELOAD it had kept in
// savedPreload for restoreEnv.
func withPreload(env []string, save bool) []string {
	out := make([]string, 0, len(env)+2)
	preload := Preload
	for _, kv := range env {
		switch k, v, _ := strings.Cut(kv, "="); k {
		case "LD_PRELOAD":
			// The user's preloads keep their place in front: what they
			// interpose still wins.
			if save {
				out = append(out, savedPreload+"="+v)
			}
			preload = v + " " + Preload
		case savedPreload:
		default:
			out = append(out, kv)
		}
	}
	return append(out, "LD_PRELOAD="+preload)
}

// Environ returns env (in the form os.Environ gives) as the environment
// of another process, Go or C, that will load libtcmalloc_minimal.so.4
// after its start: with Preload appended to LD_PRELOAD if this process
// needed it, that is, if Reexec re-executed it (on linux/arm64); env as
// it is otherwise. As jemalloc.Environ does for jemalloc's tunable.
func Environ(env []string) []string {
	if !staticTLS.Reexecuted() {
		return env
	}
	return withPreload(env, false)
}

// restoreEnv puts back the LD_PRELOAD that Reexec replaced, in the process
// it re-executed (getenv and setenv are os.Getenv and os.Setenv, or
// fakes in tests); elsewhere it does nothing.
func restoreEnv(pid int, getenv func(string) (string, bool), setenv func(k, v string), unsetenv func(k string)) {
	if m, _ := getenv(reexecMarker); m != strconv.Itoa(pid) {
		return
	}
	if v, ok := getenv(savedPreload); ok {
		setenv("LD_PRELOAD", v)
		unsetenv(savedPreload)
	} else {
		unsetenv("LD_PRELOAD")
	}
}

func init() {
	restoreEnv(os.Getpid(), os.LookupEnv, func(k, v string) { os.Setenv(k, v) }, func(k string) { os.Unsetenv(k) })
}
