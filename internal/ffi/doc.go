// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package ffi loads C libraries and calls their functions from Go without
// cgo and without a Go heap allocation per call.
//
// Loading and symbol lookup are github.com/ebitengine/purego's (dlopen and
// dlsym; with CGO_ENABLED=0, purego's fake runtime/cgo also makes every Go
// thread a pthread, so C code finds its thread-local storage). Calls do not
// go through purego: its SyscallN reflects and allocates, about 160 ns and
// two heap allocations per call on the machine below, which is ten times the
// cost of the malloc it would call. Instead there are three fixed-arity
// paths, all with the argument block on the stack.
//
// # The three paths
//
// Direct (the fast path on linux/amd64). Direct is an assembly function
// with a 16 KiB frame. Its ordinary Go prologue makes sure the goroutine
// stack has room for the frame (growing the stack if not), then it moves SP
// to the top of its own frame, aligns it to 16 bytes as the C ABI wants,
// and calls the C function there. The C code runs on the goroutine stack,
// inside memory that Direct owns. No stack switch, no change of g, nothing
// for the scheduler to do.
//
// System goes through runtime.asmcgocall: it switches to the thread's
// system stack (g0, a pthread stack of megabytes), calls a small C-ABI
// trampoline there that unpacks the argument block, and switches back. The
// scheduler is not told; the goroutine keeps its P.
//
// Blocking goes through runtime.cgocall, the path cgo itself takes: the
// goroutine enters a system-call state, so sysmon can hand its P to
// another thread if the call takes long, then asmcgocall as above.
//
// Other architectures, and builds with the nalloc_purego tag, use
// purego.SyscallN for all three (see Purego).
//
// # Which path each call takes
//
// FastN (malloc and free of small blocks) takes Direct. BlockN (large
// blocks, trim, purge, statistics, anything that may sleep or touch many
// pages) takes Blocking. The first call into a freshly loaded library runs
// through System, because a library initialises itself on its first call
// (jemalloc reads its configuration, creates arenas, may open files), of
// a depth no test can bound. Build tags change the fast path:
// nalloc_systemstack makes it System; nalloc_safecall makes it Blocking,
// for programs that cannot let a stop-the-world wait for a C call (see
// below), at 60 ns a pair more.
//
// # Guarded calls
//
// FastIf and BlockIf call check(arg) and, only if it returns the value
// expected, the function it guards, inside one assembly function (Direct's
// frame, or a trampoline on the system stack) that is never a preemption
// point and runs no Go code: both calls see the same thread, and nothing
// else runs on that thread in between. mimalloc's heaps, which only their
// owner thread may use, are checked this way for one C call's cost more
// (pthread_getspecific). On the purego path they are two calls and the
// guarantee needs a locked goroutine.
//
// # What the runtime sees during a direct call
//
// The goroutine is running, as far as the scheduler is concerned, with its
// PC in C code. Consequences, each checked by a test in this package:
//
//   - Preemption waits. A PC in C code is never an asynchronous safe point
//     (the runtime finds no Go function there), so a preemption request is
//     honoured at the next Go function prologue after the call returns. A
//     stop-the-world, including a GC's, waits for the call. This is why only
//     calls that are short in the common case take this path
//     (TestDirectPreemption). Their worst case is the allocator's: a glibc
//     malloc that consolidates millions of free chunks took 57 ms, and
//     the GC's stop-the-world waited as long (internal/native's
//     BlockingThreshold says more).
//   - The stack does not move. Stacks are copied only by the goroutine
//     itself at a prologue, or by the GC while the goroutine is stopped at a
//     safe point; neither can happen inside the call.
//   - Signals run on the thread's signal stack (sigaltstack, which Go sets
//     on every thread it makes), not on the goroutine stack, so they do not
//     eat into the C function's frame. Go's handler finds no Go function at
//     the PC and treats it as external code; a SIGPROF there is counted
//     without a Go stack. Direct writes SP, so the assembler marks it
//     SPWRITE and the unwinder stops there rather than guess a frame
//     (TestDirectStress runs under a CPU profile and a SIGUSR1 storm).
//   - The GC never scans Direct's frame: it is only ever the innermost frame
//     of a running goroutine, and Direct calls no Go code.
//   - Register state: the C function preserves BX, BP, R12-R15 (R14 is Go's
//     g register); the ABI wrapper around every assembly function reloads
//     g and zeroes X15 on return, so clobbered vector registers are fine.
//
// What would break it: C code that calls back into Go (the callback would
// run Go code on a stack the runtime thinks is in the middle of Direct); C
// code that needs more than the frame; a C signal handler installed without
// SA_ONSTACK (it would run on the goroutine stack; Go requires SA_ONSTACK
// of C code anyway); a Go release that starts async-preempting assembly.
//
// # Why 16 KiB
//
// The frame must hold the deepest stack the C function can reach on any
// call after the library's first. StackUse measures it by running the
// function on a patterned stack; each backend's TestStackUse does so on
// fresh threads (where a library sets up its per-thread state on the
// direct path) and asserts the figure stays under half the frame. The
// worst cases measured: glibc 376 bytes (realloc; malloc 152, free 168,
// memalign 232; its per-thread set-up, the tcache and the choice of arena,
// runs before any Go code on a new thread: the thread start code of cgo
// and of purego's fakecgo frees its start block there, on the system
// stack); jemalloc 3.3 KiB (rallocx; the first mallocx on a thread, which
// creates its tsd and tcache, 2.7 KiB); mimalloc 1.2 KiB (the first
// mi_malloc on a thread), 3.6 KiB when it prints an error message. 16 KiB
// leaves four times the worst of these. The cost of the frame is that a
// goroutine that calls Direct grows its stack to 32 KiB. The lowest word
// of the frame holds a canary: if a C function writes it, Direct prints
// why and ends the process with exit status 2, running no Go code, before
// anything it may have overwritten below the frame is used. It is a
// tripwire, not a guard: a C frame that spans the word without writing it
// goes unseen, which is why the frame is four times the deepest use
// measured rather than just enough.
//
// # Figures
//
// One glibc malloc(64)+free pair, median of 6 runs on a 2-core AMD EPYC
// (Go 1.26, BenchmarkMallocFree64 in this package; the README has the
// table): the same pair in a C loop 5.7 ns; Direct 10.2 ns; System 35 ns;
// Blocking 68 ns; purego.SyscallN 175 ns with 2 allocations; Go's
// make([]byte, 64) 23 ns. Direct is the only path within 2x of C. What it
// costs on top of C is a Go call into an assembly function (arguments and
// result go through memory in Go's assembly ABI), the stack check of a
// 16 KiB frame, and the indirect call. Two things that might look costly
// are not: the canary (a store, a load and a compare) made no measurable
// difference, and neither did placing the C stack below the top of the
// frame to avoid 4 KiB aliasing; a variant with no frame at all (unsafe:
// the C code would run below SP) saved about 1 ns a pair.
//
// # Linkname
//
// runtime.cgocall is reached by //go:linkname; the runtime keeps that
// symbol for outside packages (go.dev/issue/67401). runtime.asmcgocall has
// no such promise; the linker allows the reference because it resolves to
// an ABI wrapper. If a Go release renames or changes it, the nalloc_purego
// tag builds without either.
package ffi
