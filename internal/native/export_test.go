// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package native

// FastBelow is the block size under which m's calls take the fast path:
// SlowThreshold, or 0 after SlowAlways.
func FastBelow(m *Malloc) uintptr { return m.fast.Below }

// Opened is the per-path cache behind Backend.Open.
type Opened[T any] = opened[T]
