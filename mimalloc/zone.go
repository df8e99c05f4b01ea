// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package mimalloc

import "github.com/nalloc/nalloc/internal/native"

// AllowDefaultZone lets Open load libmimalloc on macOS, where the library
// makes itself the process's default malloc zone as it loads: from then on
// every malloc in the process (libSystem's own calls, other C libraries')
// is mimalloc's, for the rest of the process's life. Without it, Open on
// macOS returns an error wrapping nalloc.ErrUnsupported, so that the
// change is a choice the program makes. On other systems it does nothing.
// docs/platforms.md has the details.
func AllowDefaultZone() { native.AllowDefaultZone("mimalloc") }
