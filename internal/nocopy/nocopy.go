// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package nocopy has NoCopy, a zero-size field that makes go vet's
// copylocks check report copies of the struct that holds it, as
// sync.Mutex's and the atomic types' do (golang.org/issue/8005). nalloc's
// types that own memory hold one: a copy of a Vec, Map or bump Arena
// would hand out or free the same memory twice.
package nocopy

// NoCopy is put first in a struct (a zero-size last field would be padded)
// as `_ nocopy.NoCopy`.
type NoCopy struct{}

// Lock is a no-op that marks NoCopy as a lock for go vet.
func (*NoCopy) Lock() {}

// Unlock is a no-op that marks NoCopy as a lock for go vet.
func (*NoCopy) Unlock() {}
