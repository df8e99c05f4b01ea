// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package native

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/nalloc/nalloc/internal/ffi"
)

// Guard binds calls to the thread that owns some C state (a mimalloc
// heap, which only its thread may allocate from): a guarded call first
// runs Check(Arg) and goes on only if it returns Want, both inside one
// ffi guarded call (ffi.FastIf), which is never a preemption point and
// runs no Go code, so the goroutine cannot change threads between the
// check and the call. Refused gives the error of a call that did not run.
type Guard struct {
	Check, Arg, Want uintptr
	Refused          func(op string) error
}

// The thread tokens: a pthread key whose value on a thread is that
// thread's token, a number handed out once and never again. A token, and
// not the thread's pthread_t, because a thread that exits can have its
// pthread_t given to a new thread, never its token.
var tokens struct {
	once                     sync.Once
	err                      error
	key                      uintptr // pthread_key_t
	getspecific, setspecific uintptr
	last                     atomic.Uintptr // the last token handed out
}

func tokenKey() error {
	tokens.once.Do(func() {
		lib, err := ffi.Load("libc.so.6", "libpthread.so.0")
		if err != nil {
			tokens.err = fmt.Errorf("thread guards need pthread keys from the C library: %w", err)
			return
		}
		var create uintptr
		if err := lib.Symbols(
			Sym{Name: "pthread_key_create", Addr: &create},
			Sym{Name: "pthread_getspecific", Addr: &tokens.getspecific},
			Sym{Name: "pthread_setspecific", Addr: &tokens.setspecific},
		); err != nil {
			tokens.err = fmt.Errorf("thread guards need pthread keys: %w", err)
			return
		}
		var key uint32 // pthread_key_t; Slow2 keeps it on the heap for C
		if rc := int32(Slow2(create, uintptr(unsafe.Pointer(&key)), 0)); rc != 0 {
			tokens.err = fmt.Errorf("pthread_key_create failed (error %d)", rc)
			return
		}
		tokens.key = uintptr(key)
	})
	return tokens.err
}

// LockThread locks the calling goroutine to its OS thread
// (runtime.LockOSThread) and returns a Guard that passes only on that
// thread, with refused as its Refused. Undo the lock with
// runtime.UnlockOSThread when the state the Guard protects is gone. With
// the purego path (no assembly), the check and the call are two calls,
// and the thread lock is what keeps them on one thread.
func LockThread(refused func(op string) error) (*Guard, error) {
	if err := tokenKey(); err != nil {
		return nil, err
	}
	runtime.LockOSThread()
	token := Slow1(tokens.getspecific, tokens.key)
	if token == 0 {
		token = tokens.last.Add(1)
		if rc := int32(Slow2(tokens.setspecific, tokens.key, token)); rc != 0 {
			runtime.UnlockOSThread()
			return nil, fmt.Errorf("pthread_setspecific failed (error %d)", rc)
		}
	}
	return &Guard{Check: tokens.getspecific, Arg: tokens.key, Want: token, Refused: refused}, nil
}

// OnThread reports whether the calling goroutine runs on g's thread now.
// Unlike a guarded call it leaves the goroutine free to move afterwards,
// so it is for callers that locked the goroutine to the thread.
func (g *Guard) OnThread() bool { return Slow1(g.Check, g.Arg) == g.Want }
