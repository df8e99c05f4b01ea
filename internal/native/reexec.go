// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package native

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// StaticTLS is what a backend declares about a library whose
// initial-exec TLS must come from the static TLS block glibc sizes when a
// process starts: dlopen in a running process may refuse it ("cannot
// allocate memory in static TLS block"), and an environment set before
// the start (a tunable, a preload) makes it load. Backend.Reexec acts on
// it.
type StaticTLS struct {
	// Err is the backend's sentinel (jemalloc.ErrStaticTLS), wrapped by
	// the load error; its doc gives the remedies.
	Err error
	// Marker is the environment variable that Reexec sets, to the
	// process ID, in the process it re-executes
	// (NALLOC_JEMALLOC_REEXEC).
	Marker string
	// Environ returns env (as os.Environ gives it) changed so that a
	// process started with it loads the library.
	Environ func(env []string) []string
}

// Reexec makes the backend's library loadable in a process that started
// without room for its static TLS, by re-executing the program, once, in
// the environment StaticTLS.Environ gives: the backends' Reexec, whose doc
// says when to call it. It returns nil if the library loads (nothing
// done), Open's error if it fails for another reason or if this process
// was already re-executed for it, and why execve failed otherwise; on
// success it does not return.
func (b *Backend[T]) Reexec() error {
	_, err := b.Open("")
	st := b.StaticTLS
	if err == nil || st == nil || !errors.Is(err, st.Err) {
		return err
	}
	env, ok := ReexecEnv(os.Environ(), st.Marker, os.Getpid(), st.Environ)
	if !ok {
		return fmt.Errorf("%w (after one re-execution)", err)
	}
	// /proc/self/exe is the running binary even if it was started
	// through a relative path from another directory or a PATH look-up;
	// qemu-user maps it to the emulated binary, so this works under
	// emulation too.
	err = syscall.Exec("/proc/self/exe", os.Args, env)
	return fmt.Errorf("%s: Reexec: execve /proc/self/exe: %w", b.Name, err)
}

// ReexecEnv returns the environment to re-execute the program with: env
// without any earlier value of marker, changed by edit, plus marker set to
// pid. It returns false if marker already holds pid: this process is the
// re-executed one (a process ID survives execve, and no other process
// has it, so a re-executed process never re-executes again for the same
// reason while its children, other PIDs, are free to).
func ReexecEnv(env []string, marker string, pid int, edit func([]string) []string) ([]string, bool) {
	me := strconv.Itoa(pid)
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		switch {
		case kv == marker+"="+me:
			return nil, false
		case strings.HasPrefix(kv, marker+"="):
			// A parent's marker: not ours; replaced below.
		default:
			out = append(out, kv)
		}
	}
	return append(edit(out), marker+"="+me), true
}

// Reexecuted reports whether this process is one that Reexec re-executed
// for the library described by st.
func (st *StaticTLS) Reexecuted() bool { return os.Getenv(st.Marker) == strconv.Itoa(os.Getpid()) }
