// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package ffi loads C libraries and calls their functions from Go without
// cgo and without a Go heap allocation per call.
//
// Loading and symbol lookup are github.com/ebitengine/purego's (dlopen and
// dlsym; with CGO_ENABLED=0, purego's fake runtime/cgo also makes every Go
// thread a pthread, so C code finds its thread-local storage). Calls do not
// go through purego: its SyscallN reflects and allocates. Instead there are
// fixed-arity calls with the argument block on the stack, on two paths.
//
// # The paths
//
// The fast path (Fast1, Fast4, FastIf) is for short, bounded calls: malloc
// and free of small blocks. On linux/amd64 and linux/arm64 it is the
// switch path: a few instructions of this package's assembly
// (call_linux_GOARCH.s) move the thread from the goroutine's stack to its
// system stack, the g0 stack the runtime keeps for each thread (a pthread
// stack of megabytes), call C there, and move back. The scheduler is not
// told; the goroutine keeps its P throughout.
//
// The slow path (Slow1..Slow5, Slow8, SlowIf, SlowStruct) is for calls
// that may take long: large blocks, trimming, statistics, a library's
// first call. It is runtime.cgocall, the path cgo takes: the
// goroutine enters a system-call state so sysmon can hand its P to another
// thread, then runs C on the system stack too.
//
// Elsewhere (and with the nalloc_purego tag) every call is
// purego.SyscallN. The nalloc_safecall tag makes the fast path the
// slow one, for programs that cannot let a stop-the-world wait for a
// C call. docs/callpath.md has what each costs.
//
// # One switch, step by step
//
// switch1(fn, a0) is NOSPLIT and has no frame: it uses nothing of the
// goroutine's stack but its return address, so a goroutine's first call
// grows nothing (TestFirstCallGrowsNoStack). In order:
//
//  1. If the start-up check has not passed (switchOK), or g.stackguard0
//     says the scheduler wants g to stop, it jumps to a Go twin with the
//     same arguments whose ordinary prologue honours the request and
//     which takes the slow path. So a loop of nothing but fast calls
//     is preemptible at every call (TestFastPreemption).
//  2. If g is not g.m.curg, the thread is already on a system stack (g0,
//     gsignal) and it calls fn in place, as runtime.asmcgocall does.
//  3. It saves g.sched: SP and, on amd64, a PC inside inC, a frameless
//     function that never runs (on arm64 the return address, as mcall
//     saves it). To an unwinder, g is then stopped in a call from its
//     caller.
//  4. It writes g0 into the thread's TLS slot, moves SP to g0.sched.sp
//     (aligned to 16) and calls fn. Go's SP and g wait in callee-saved
//     registers; on return it moves SP back and puts g back in TLS.
//
// # What the runtime sees during the call
//
// While C runs, the thread looks exactly as it does inside
// runtime.systemstack or asmcgocall: g0 current in TLS, m.curg = g with
// status _Grunning, no system-call state. Each party:
//
//   - Signals run on the signal stack and read g from TLS (sigtramp), so
//     they find g0. A SIGPROF there finds no Go function at the PC and is
//     counted as external code, without a Go stack (TestFastStress runs
//     under a CPU profile and a SIGUSR1 storm).
//   - Asynchronous preemption never fires: the handler only preempts a
//     user g at a Go safe point, and g0 is not one. A stop-the-world, a
//     GC's among them, waits for the call to return, then catches g at
//     its next fast call or Go prologue (TestFastPreemption). That is why
//     only short calls take this path.
//   - The GC scans g only once it is stopped at a safe point, so never
//     mid-call; and g's stack cannot move meanwhile (copying happens only
//     at g's own prologues or while it is stopped).
//   - runtime.Stack, goroutine profiles and the like stop the world first,
//     so they see g back in Go code (TestStacksWhileInC).
//   - A fault in C code finds g0 current, so the handler does not turn it
//     into a Go panic (which would unwind through C frames holding
//     locks): it prints the signal, the PC and, from g.sched, the Go stack
//     that made the call, and exits with status 2 (TestCrashInC). With
//     GOTRACEBACK=crash, every thread's dump of a goroutine in C shows
//     inC and its callers (TestTracebackInC).
//   - The runtime overwrites g.sched whenever g parks, is preempted or
//     grows its stack, before anything resumes or scans g from it; the
//     values the switch leaves there are stale as soon as g runs Go again,
//     like those asmcgocall leaves.
//
// # What would break it
//
// C code that calls back into Go (it would run on g0 with curg mid-call);
// a C signal handler installed without SA_ONSTACK; a build without
// runtime/cgo or purego's fake cgo (no C thread state, and on arm64 the
// signal handler would not read g from TLS; checked at start-up); and a
// Go release that changes the runtime's layout or what its signal
// handler, unwinder or preemption assume of the state above.
//
// # Start-up check
//
// The switch path reads runtime internals: offsets in runtime.g, m and
// gobuf (runtime_linux.go), and on arm64 the TLS slot of g, found by
// scanning the thread's TLS for g and confirming it on a second thread
// (Go 1.27's linker refuses this package a reference to runtime·tls_g).
// Before the first call, init verifies on the running release that g.m.
// curg is g, g0.m is g.m, g.stack holds SP, g0.stack holds g0.sched.sp
// with at least MinSystemStack free, g0.sched.g is g0; that a parked
// goroutine shows _Gwaiting, a PC in runtime.gopark and SP and frame
// pointer in its stack; then it makes two probe calls through the switch
// and checks the C side's SP and TLS g and what g.sched holds afterwards.
// If anything fails, or the release is not one this package was checked
// against (Go 1.26 and 1.27, release_known.go), the fast calls take the
// slow path, still correct, and TestSwitchOn fails naming the fact.
//
// # A new Go release
//
// Read its runtime where this package depends on it: the g, m and gobuf
// offsets (go_asm.h of the runtime, built with -work), asmcgocall and
// gosave_systemstack_switch in asm_GOARCH.s, sighandler and sigFetchG in
// signal_unix.go, sigprof in proc.go, the unwinder's initAt and
// resolveInternal in traceback.go, isAsyncSafePoint in preempt.go, and
// cmd/link's checkLinkname. Then widen release_known.go. Go 1.27 removed
// the linker's blanket allowance for references to runtime assembly
// symbols and ABI wrappers: runtime.asmcgocall and runtime·tls_g can no
// longer be named from outside the runtime, which is why the switch path
// names neither; runtime.cgocall and runtime.iscgo stay pushed for
// outside packages (go.dev/issue/67401).
//
// # Guarded calls
//
// FastIf and SlowIf call check(arg) and, only if it returns the value
// expected, the function it guards, inside one assembly function on the
// system stack that is never a preemption point and runs no Go code:
// both calls see the same thread, and nothing else runs on that thread in
// between (TestIfSameThread). mimalloc's heaps, which only their owner
// thread may use, are checked this way. On the purego path they are two
// calls and the guarantee needs a locked goroutine.
package ffi
