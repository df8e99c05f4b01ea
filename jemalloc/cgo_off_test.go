// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build !cgo

package jemalloc_test

const cgoEnabled = "0"
