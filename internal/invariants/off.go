// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !nalloc_invariants

package invariants

// Enabled is false: build with -tags nalloc_invariants to turn the
// expensive checks on.
const Enabled = false
