// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

//go:build linux && amd64 && !nalloc_purego && !nalloc_safecall && nalloc_systemstack

package ffi

const fastPath = PathSystem
