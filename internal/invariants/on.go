// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build nalloc_invariants

package invariants

// Enabled is true: this build has the nalloc_invariants tag.
const Enabled = true
