// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package ffi_test

import (
	"testing"

	"github.com/nalloc/nalloc/internal/ffi"
)

// TestSwitchOn fails loudly when the start-up check refused the switch
// path in a build that has it: a Go release whose runtime this package
// does not know, or one that moved what it reads. The calls still work
// then (they take the slow path), three times slower; the message
// says what to do.
func TestSwitchOn(t *testing.T) {
	if ffi.FastPath != ffi.PathSwitch {
		t.Skipf("this build's fast path is %v", ffi.FastPath)
	}
	if err := ffi.SwitchErr(); err != nil {
		t.Fatalf("the switch path is off: %v", err)
	}
}
