// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package jemalloc is nalloc's backend for jemalloc. (Doc in progress.)
package jemalloc
