// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package native is the one kernel of nalloc's native backends (glibc,
// jemalloc, mimalloc and the others). A backend package declares its
// library as data and keeps only what the library does differently;
// everything that is the same lives here:
//
//   - Loading (Spec, Lib): the sonames to try, the Debian package to name
//     when none loads (an error wrapping nalloc.ErrLibraryNotFound), the
//     static-TLS failure of a library that needs it (StaticTLS: jemalloc,
//     and tcmalloc on arm64) and the re-execution that cures it
//     (Backend.Reexec), symbols resolved with an error naming the first
//     one missing, optional controls that may be absent (Lib.Optional,
//     Lib.Missing, ErrMissing).
//   - The first call (Backend.Open): a library initialises itself on its
//     first call (reading its configuration, mapping its first memory,
//     setting up the thread's state), which may take long, so the first
//     call after loading takes the slow path, like any call that may.
//   - Settings and reports: Tune, the shape of every backend's
//     nalloc.Tuner (a name, a value read by ParseInt), and Report, a
//     library's text report written through a callback (Info).
//   - One allocator per library path, and registration with nalloc.Register
//     under the backend's name (Backend.Register), with the Spec listed in
//     Specs for tools: the shoot-out finds every native backend, the C
//     functions to time against (Spec.Pair) and OpenLibrary there, with no
//     list of backends of its own.
//   - The choice of call path, in one place: Malloc's fast test for the
//     common case, Sized for the backends' own allocating calls (jemalloc's
//     heaps), the Slow functions for every control, SlowAlways for a
//     library in a mode where any call may take long, a Guard for state
//     bound to one thread. No backend imports internal/ffi.
//   - The malloc-family adapter (Malloc, from a MallocSpec): the
//     nalloc.Allocator contract over malloc, calloc, realloc, free, an
//     aligned call and usable_size, with the shapes the libraries differ
//     in given as data (argument order, a heap argument, a zone of the
//     allocator's own that every call takes first, zeroing and aligned
//     reallocation where they exist). mimalloc's heaps are the same
//     adapter with the heap functions and a Guard (OnHeap); macOS's
//     malloc is the same adapter on a zone it creates (MallocSpec.Zone).
//
// # Paths
//
// A call takes one of two paths (internal/ffi has how each works and what
// the runtime sees): the fast path, for the calls that are short in the
// common case (allocating and freeing blocks under SlowThreshold),
// and the slow path (runtime.cgocall: the scheduler may hand the
// goroutine's P to another thread meanwhile), for large blocks and every
// control (statistics, trimming, mallctl, destroying a heap).
//
// The fast path bounds the common case only: a C call cannot be preempted,
// and its worst case is the allocator's. A small glibc malloc that finds
// the top chunk exhausted first merges every free fastbin chunk, which
// after millions of small frees is long work, and a stop-the-world waits
// for it; jemalloc purges dirty pages inline now and then. Programs that
// cannot have such a pause build with -tags nalloc_safecall, where every
// call takes the slow path and a stop-the-world never waits for C
// (docs/callpath.md has what each path costs); with glibc,
// Mallopt(M_MXFAST, 0) removes the fastbins and with them the backlog.
package native
