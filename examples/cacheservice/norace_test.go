// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !race

package main

const raceEnabled = false
