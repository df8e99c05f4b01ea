// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package native

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

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

// Reexec replaces the process with a fresh start of the same program,
// same arguments, in env (from ReexecEnv). It returns only on failure.
// /proc/self/exe is the running binary even if it was started through a
// relative path from another directory or a PATH look-up; qemu-user maps
// it to the emulated binary, so this works under emulation too.
func Reexec(backend string, env []string) error {
	err := syscall.Exec("/proc/self/exe", os.Args, env)
	return fmt.Errorf("%s: Reexec: execve /proc/self/exe: %w", backend, err)
}
