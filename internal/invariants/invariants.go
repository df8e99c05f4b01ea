// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package invariants switches on checks that cost time: build with
// -tags nalloc_invariants and the code that tests Enabled poisons memory it
// takes back, verifies its own structures after every slow-path change, and
// panics with the package's prefix on the first inconsistency. Without the
// tag, Enabled is a false constant and the compiler removes the checks,
// so normal builds pay nothing (pebble's internal/invariants does the same).
//
// The tests of every package that uses it run with the tag on as well as
// off (see the Makefile).
package invariants
