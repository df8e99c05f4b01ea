// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package bump is a bump arena: memory is handed out by moving a pointer
// through large chunks, and given back all at once (Reset, Rewind,
// Release) rather than block by block. It is for phase-shaped work: build
// a request's, a frame's or a parse's objects, use them, drop them
// together. Importing it registers "bump" with nalloc.Open, which returns
// a new Arena on each call.
//
//	a := bump.New()
//	for _, req := range requests {
//		p := a.Alloc(64, 8) // a few nanoseconds, no Go heap allocation
//		...
//		a.Reset() // every block of the round at once
//	}
//
// An Arena is an nalloc.Allocator, so the typed containers and the
// wrappers of package nalloc work over it. Deallocate only gives space back
// when the block is the most recent allocation; other blocks wait for the
// next Reset.
//
// # Memory
//
// By default chunks come from the Go heap as pointer-free byte slices that
// the Arena keeps alive; the garbage collector never scans them, so blocks
// must hold no Go pointers (as every nalloc block). With such chunks, a
// block used after Reset or Release is a bug, but not a crash: the memory
// stays valid while anything points into it. WithParent takes chunks from
// any nalloc.Allocator instead (jemalloc, mimalloc, glibc: memory the Go
// heap never sees), and Release gives them back; an Arena over a parent
// that is dropped without Release leaks its chunks (nothing frees them
// behind the back of pointers that may still be in use). WithBuffer and
// WithBlock make an Arena over one fixed region of the caller's, never
// grown.
//
// # Design
//
// The choices below follow Nick Fitzgerald's bumpalo, the Rust crate,
// except where Go or this module's contract pulls the other way.
//
// Bump direction. bumpalo bumps downwards: the new pointer is
// (ptr - size) rounded down to the alignment, checked against the chunk's
// start, which needs no overflow check and fewer instructions than
// bumping up ("Always bump downwards", 2019). The price is that the last
// block can only grow by moving its start down, with a memmove of its
// contents. This arena bumps upwards but keeps bumpalo's instruction
// count: it stores the chunk's end (aligned to 16) and the bytes
// remaining below it, so the fast path is
//
//	r := rem &^ (align-1)   // round the free space down: the block's start up
//	if size > r { slow }    // one compare, no overflow possible
//	rem = r - size
//	p = end - r
//
// one load of each field, one AND, one compare, two subtractions. Blocks
// are laid out in allocation order, so Grow and Shrink of the most recent
// block happen truly in place, same address and no copy: a vector
// growing by doubling in an arena costs no memmove, where bumpalo's pays
// one per step. BenchmarkAlloc has bumpalo's fast path transcribed to Go
// beside this one: on the 2-core EPYC this module is measured on, both
// cost 2-3 ns per 64-byte block with the benchmark's loop around them
// (medians of 8 runs: 2.80 ns upwards, 2.76 ns downwards), a difference
// inside the noise.
//
// Chunks. The first chunk is 4 KiB unless WithChunkSize says otherwise;
// each next one doubles the size of the one before (WithGrowth(Constant)
// keeps them even), and is at least big enough for the request that
// needed it. Unlike bumpalo's, the doubling follows the policy's own
// sizes: a chunk made to measure for one 64 MiB block does not make the
// next chunk 128 MiB. A chunk gives up its last 16 bytes or fewer: its usable end
// is aligned to 16 (so the fast path serves alignments up to 16 from the
// remaining count alone) and is never handed out, so that every pointer
// the arena returns, even for a zero-size block, lies strictly inside the
// chunk, which the garbage collector requires of pointers into Go memory.
// When a request does not fit, the rest of the current chunk is abandoned
// until Reset (as in bumpalo).
//
// Reset keeps only the largest chunk, as bumpalo does, and gives the
// others back: a loop of rounds that each allocate the same amount settles
// after one round into a single chunk, which then serves every round
// without a trip to the parent. Rewind keeps the chunks it empties as
// spares, so a Checkpoint/Rewind loop does not churn chunks either.
//
// Limit. WithLimit bounds the bytes of chunk memory the arena holds (what
// it takes from its parent, guard bytes included), so the limit is a real
// bound on memory, as bumpalo's allocation limit is. A new chunk is
// clipped to the room left under the limit; a request that cannot fit
// even then gets nil from Alloc, ErrOutOfMemory from Allocate.
//
// Zeroed memory. A chunk fresh from the Go heap is already zero, so the
// arena remembers, per chunk, how far memory has ever been handed out;
// AllocateZeroed and GrowZeroed clear only what lies below that mark.
//
// # Concurrency
//
// An Arena is not safe for concurrent use, by design: the fast path is a
// few instructions because nothing is shared. Use one Arena per goroutine
// (as bumpalo's Bump is !Sync), or wrap it in a mutex.
//
// # Debug checks
//
// Built with -tags nalloc_invariants, the arena fills memory it takes back
// (Reset, Rewind, Release, Deallocate and Shrink of the last block) with
// 0x5a, so that stale blocks read as garbage at once, and verifies its
// chunk bookkeeping after every slow-path change.
package bump
