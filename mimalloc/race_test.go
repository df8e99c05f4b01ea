// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build race

package mimalloc_test

// raceEnabled: the race detector's runtime ends the process through the C
// library's exit, which runs atexit handlers.
const raceEnabled = true
