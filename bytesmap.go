// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import (
	"errors"
	"fmt"
	"hash/maphash"
	"iter"
	"math"
	"math/bits"
	"unsafe"

	"github.com/nalloc/nalloc/internal/nocopy"
)

// BytesMap is a hash map from byte strings to byte strings whose keys,
// values and index all live in allocator memory: the cache of a service,
// keyed by strings, with values of every length, that the garbage
// collector never sees. Put copies the key and the value in; Get appends
// a copy of the value to a buffer of the caller's. Neither allocates on
// the Go heap (Get given a buffer with room for the value), whatever the
// allocator, but for a new key on the "go" allocator, whose blocks are
// Go objects (and on builds whose native calls go through
// purego.SyscallN, which allocates).
//
// # Layout
//
// Each entry is one block of the allocator's memory, an 8-byte header
// then the key's bytes then the value's, asked for at its exact size, so
// that the allocator's size classes (the one choice of granularity the
// process already makes) decide the rounding; a replaced value of a size
// that still fits its block (using at least 3/4 of it) is written in
// place. The index is one block of 8-byte words, open addressing with
// linear probing: each word holds 16 bits of the key's hash and the
// entry's address, so a lookup reads one run of adjacent words and then
// the one entry whose hash bits match, and a delete leaves a tombstone.
// The index is rebuilt, at twice the size when the entries need it, when
// entries and tombstones fill 3/4 of it; after a rebuild it is at most
// 3/8 full, so it costs 8 bytes over its load factor, 10.7 to 21 bytes an
// entry. An entry of a 16-byte key and a 100-byte value asks for 124
// bytes (jemalloc's class: 128) and a share of the index: about 145 in
// all. The figures of this layout against slabs, and of this index
// against a Swiss table, are in examples/cacheservice/README.md.
//
// Keys are at most 65535 bytes and values at most 4 GiB less the header
// and key; longer ones are refused with ErrInvalidLayout. The index holds
// addresses below 2^51 (every address Linux hands out on amd64 and arm64
// unless a program asks for higher ones); a block above that is refused
// with ErrOutOfMemory.
//
// # Memory
//
// The map owns every block: Put allocates an entry's block, Delete and a
// Put that replaces a value with one that does not fit give the old one
// back, and Clear and Close give back all of them. A BytesMap dropped
// without Close leaks its blocks. Views (the []byte that All and
// DeleteFunc hand to their functions) point into the map's memory and
// are valid only until the map next changes; copy what must outlive
// that.
//
// # Failure
//
// Put allocates everything it needs (the entry's block, and a rebuilt
// index if the entry would fill it) before it changes anything: if the
// allocator refuses, Put returns an error wrapping ErrOutOfMemory and the
// map is exactly as it was. Delete, Get, All and Clear never allocate.
//
// # Concurrency
//
// As with a Go map: Get, GetBytes, Has, Len, the byte counts and All
// may run concurrently with each other, but a Put, Delete, DeleteFunc, Clear or
// Close must not run concurrently with any other call. A service guards
// each map with a sync.RWMutex, or shards: many BytesMaps, each under
// its own lock, chosen by a hash of the key (examples/cacheservice has
// 64). Changing the map from inside an All loop is a programmer error
// that All reports with a panic before it reads anything again; delete
// in a sweep with DeleteFunc.
//
// The zero value is not usable: make BytesMaps with NewBytesMap. A
// BytesMap must not be copied (the copy would share the blocks).
type BytesMap struct {
	a       Allocator
	seed    maphash.Seed
	slots   unsafe.Pointer // the index: mask+1 words, nil before the first Put
	mask    uint64         // slots-1, 0 while slots is nil
	n       int            // entries
	tombs   int            // tombstones in the index
	payload int            // bytes of keys and values
	entries int            // bytes of entry blocks, as asked for
	mods    uint64         // changes, for All to notice
	_       nocopy.NoCopy
}

// entryHeader starts every entry block; the key follows, then the value.
// The block is headerSize+klen+vlen+slack bytes, slack being what a
// shorter value written in place left unused.
type entryHeader struct {
	klen  uint16
	slack uint16
	vlen  uint32
}

const headerSize = 8

// The header is 8 bytes, so that the key follows it at the start of a
// word and the block is 8-aligned throughout.
var _ [headerSize - unsafe.Sizeof(entryHeader{})]byte
var _ [unsafe.Sizeof(entryHeader{}) - headerSize]byte

// Index words: 0 is an empty slot, freedSlot a deleted entry's (a
// tombstone), anything else the top 16 bits of the key's hash over the entry's address shifted
// right by 3 (blocks are 8-aligned), which needs 48 bits for addresses
// below 2^51.
const (
	freedSlot = 1
	tagShift  = 48
	addrMask  = 1<<tagShift - 1
	maxAddr   = 1 << (tagShift + 3)
	minSlots  = 16
	maxKey    = math.MaxUint16
	maxEntry  = math.MaxUint32
)

// errBytesMapNoAllocator is what a BytesMap that NewBytesMap did not
// make returns when it would need memory.
var errBytesMapNoAllocator = errors.New("nalloc: BytesMap has no allocator: make it with NewBytesMap")

// NewBytesMap returns an empty BytesMap that allocates from a, with an
// index sized for capacity entries (0 allocates nothing until the first
// Put; the entries' own blocks are allocated as they come). It returns
// an error wrapping ErrInvalidLayout if capacity is negative or too
// large, and a's error if the index cannot be allocated.
func NewBytesMap(a Allocator, capacity int) (*BytesMap, error) {
	if a == nil {
		return nil, errors.New("nalloc: NewBytesMap with a nil Allocator")
	}
	if capacity < 0 || capacity > math.MaxInt/8 {
		return nil, fmt.Errorf("%w: NewBytesMap capacity %d", ErrInvalidLayout, capacity)
	}
	m := &BytesMap{a: a, seed: maphash.MakeSeed()}
	if capacity > 0 {
		if err := m.rebuild(slotsFor((capacity + 1) / 2)); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// slotsFor returns the size of an index that n entries fill to at most
// 3/8: the rebuild of a full index (3/4) doubles it, and 3/4 is reached
// again only after as many inserts as it holds.
func slotsFor(n int) uint64 {
	want := (uint64(n)*8 + 2) / 3
	if want <= minSlots {
		return minSlots
	}
	return 1 << bits.Len64(want-1)
}

// Len returns the number of entries.
func (m *BytesMap) Len() int { return m.n }

// PayloadBytes returns the bytes of the keys and values the map holds.
func (m *BytesMap) PayloadBytes() int { return m.payload }

// AllocatedBytes returns the bytes the map has asked its allocator for
// and holds: the entries' blocks and the index. What that costs in the
// process depends on the allocator's size classes and its own overhead
// (see its Stats, if it has them).
func (m *BytesMap) AllocatedBytes() int { return m.entries + int(m.slotCount())*8 }

func (m *BytesMap) slotCount() uint64 {
	if m.slots == nil {
		return 0
	}
	return m.mask + 1
}

func (m *BytesMap) slot(i uint64) *uint64 {
	return (*uint64)(unsafe.Add(m.slots, i*8))
}

// entryOf returns the header of the entry an index word names.
func entryOf(w uint64) *entryHeader {
	return (*entryHeader)(pointerAt(uintptr((w & addrMask) << 3)))
}

// pointerAt returns the address of a block as a pointer. The block is
// allocator memory, outside the Go heap, or (with the "go" allocator) a
// Go object that the allocator keeps alive: either way the address stays
// valid while the map holds it. It is read through memory rather than
// converted, since checkptr (on under -race) takes a pointer made from an
// integer into a Go object for a forged one.
func pointerAt(addr uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&addr)) }

// body returns the block's bytes after the header: the key, the value,
// the slack. Slicing it, rather than adding offsets to e, never makes a
// pointer past the end of the block (checkptr, on under -race, rejects
// those when the block is a Go object).
func (e *entryHeader) body() []byte {
	n := int(e.klen) + int(e.vlen) + int(e.slack)
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(e), headerSize)), n)
}

func (e *entryHeader) key() []byte { return e.body()[:e.klen:e.klen] }

// value returns the value's bytes, with a capacity of their length so
// that an append to the view cannot write into the map.
func (e *entryHeader) value() []byte {
	end := int(e.klen) + int(e.vlen)
	return e.body()[e.klen:end:end]
}

func (e *entryHeader) layout() Layout {
	return Layout{Size: headerSize + uintptr(e.klen) + uintptr(e.vlen) + uintptr(e.slack), Align: 8}
}

// find returns the slot of key k, whose hash is h, and true; or, if k is
// not in the map, the slot where it would go (the first freedSlot on its
// probe sequence, else the empty slot that ends it) and false. The index
// must exist.
func (m *BytesMap) find(k string, h uint64) (uint64, bool) {
	tag := h >> tagShift
	free := uint64(math.MaxUint64)
	for i := h & m.mask; ; i = (i + 1) & m.mask {
		switch w := *m.slot(i); {
		case w == 0:
			if free != math.MaxUint64 {
				return free, false
			}
			return i, false
		case w == freedSlot:
			if free == math.MaxUint64 {
				free = i
			}
		case w>>tagShift == tag:
			if string(entryOf(w).key()) == k {
				return i, true
			}
		}
	}
}

// Get appends the value stored under k to dst and returns the result
// and true, or dst and false if k is not in the map. It does not
// allocate if dst has room for the value.
func (m *BytesMap) Get(k string, dst []byte) ([]byte, bool) {
	if m.n == 0 {
		return dst, false
	}
	i, ok := m.find(k, maphash.String(m.seed, k))
	if !ok {
		return dst, false
	}
	return append(dst, entryOf(*m.slot(i)).value()...), true
}

// GetBytes is Get with a key in a byte slice, which it does not retain.
func (m *BytesMap) GetBytes(k []byte, dst []byte) ([]byte, bool) {
	return m.Get(unsafe.String(unsafe.SliceData(k), len(k)), dst)
}

// Has reports whether k is in the map.
func (m *BytesMap) Has(k string) bool {
	if m.n == 0 {
		return false
	}
	_, ok := m.find(k, maphash.String(m.seed, k))
	return ok
}

// Put stores a copy of v under a copy of k, replacing any value there.
// It returns an error wrapping ErrInvalidLayout for a key over 65535
// bytes or an entry over 4 GiB, and one wrapping ErrOutOfMemory if the
// allocator refuses; the map is then exactly as it was.
func (m *BytesMap) Put(k string, v []byte) error {
	if len(k) > maxKey || uint64(len(v)) > maxEntry-headerSize-uint64(len(k)) {
		return fmt.Errorf("%w: BytesMap.Put: a key of %d bytes and a value of %d: keys are at most %d bytes, "+
			"entries at most %d", ErrInvalidLayout, len(k), len(v), maxKey, uint64(maxEntry))
	}
	if m.a == nil {
		return errBytesMapNoAllocator
	}
	h := maphash.String(m.seed, k)
	var i uint64
	found := false
	if m.slots != nil {
		i, found = m.find(k, h)
	}
	if found {
		e := entryOf(*m.slot(i))
		size := e.layout().Size
		if need := headerSize + uintptr(len(k)) + uintptr(len(v)); need <= size && size-need <= min(size/4, math.MaxUint16) {
			m.payload += len(v) - int(e.vlen)
			e.vlen, e.slack = uint32(len(v)), uint16(size-need)
			copy(e.body()[len(k):], v)
			m.mods++
			return nil
		}
	}
	e, err := m.newEntry(k, v)
	if err != nil {
		return err
	}
	if found {
		old := entryOf(*m.slot(i))
		*m.slot(i) = h>>tagShift<<tagShift | uint64(uintptr(unsafe.Pointer(e)))>>3
		m.payload += len(v) - int(old.vlen)
		m.freeEntry(old)
		m.mods++
		return nil
	}
	if m.slots == nil || uint64(m.n+m.tombs+1) > m.slotCount()*3/4 {
		if err := m.rebuild(slotsFor(m.n)); err != nil {
			m.freeEntry(e)
			return fmt.Errorf("BytesMap.Put: %w", err)
		}
		i, _ = m.find(k, h)
	}
	if *m.slot(i) == freedSlot {
		m.tombs--
	}
	*m.slot(i) = h>>tagShift<<tagShift | uint64(uintptr(unsafe.Pointer(e)))>>3
	m.n++
	m.payload += len(k) + len(v)
	m.mods++
	return nil
}

// PutBytes is Put with a key in a byte slice, which it copies.
func (m *BytesMap) PutBytes(k []byte, v []byte) error {
	return m.Put(unsafe.String(unsafe.SliceData(k), len(k)), v)
}

// newEntry allocates an entry block for k and v and fills it in; its
// size is added to m.entries.
func (m *BytesMap) newEntry(k string, v []byte) (*entryHeader, error) {
	l := Layout{Size: headerSize + uintptr(len(k)) + uintptr(len(v)), Align: 8}
	p, err := m.a.Allocate(l)
	if err != nil {
		return nil, fmt.Errorf("BytesMap.Put: %w", err)
	}
	if uintptr(p) >= maxAddr || uintptr(p)%8 != 0 {
		m.a.Deallocate(p, l)
		return nil, fmt.Errorf("%w: BytesMap.Put: the allocator returned %p, above the 2^51 the index can hold, or unaligned",
			ErrOutOfMemory, p)
	}
	e := (*entryHeader)(p)
	*e = entryHeader{klen: uint16(len(k)), vlen: uint32(len(v))}
	b := e.body()
	copy(b[copy(b, k):], v)
	m.entries += int(l.Size)
	return e, nil
}

func (m *BytesMap) freeEntry(e *entryHeader) {
	l := e.layout()
	m.entries -= int(l.Size)
	m.a.Deallocate(unsafe.Pointer(e), l)
}

// rebuild moves the entries to a new index of n slots, dropping the
// tombstones; if the allocator refuses it, the map is as it was.
func (m *BytesMap) rebuild(n uint64) error {
	if m.a == nil {
		return errBytesMapNoAllocator
	}
	if n > math.MaxInt/8 {
		return fmt.Errorf("%w: BytesMap index of %d slots", ErrOutOfMemory, n)
	}
	l := Layout{Size: uintptr(n) * 8, Align: 8}
	p, err := AllocateZeroed(m.a, l)
	if err != nil {
		return err
	}
	old, oldCount := m.slots, m.slotCount()
	m.slots, m.mask, m.tombs = p, n-1, 0
	for j := range oldCount {
		w := *(*uint64)(unsafe.Add(old, j*8))
		if w == 0 || w == freedSlot {
			continue
		}
		k := entryOf(w).key()
		h := maphash.Bytes(m.seed, k)
		i := h & m.mask
		for *m.slot(i) != 0 {
			i = (i + 1) & m.mask
		}
		*m.slot(i) = w
	}
	if old != nil {
		m.a.Deallocate(old, Layout{Size: uintptr(oldCount) * 8, Align: 8})
	}
	return nil
}

// Delete removes the entry for k, gives its block back, and reports
// whether there was one. It never allocates.
func (m *BytesMap) Delete(k string) bool {
	if m.n == 0 {
		return false
	}
	i, ok := m.find(k, maphash.String(m.seed, k))
	if !ok {
		return false
	}
	m.deleteAt(i)
	return true
}

// DeleteBytes is Delete with a key in a byte slice.
func (m *BytesMap) DeleteBytes(k []byte) bool {
	return m.Delete(unsafe.String(unsafe.SliceData(k), len(k)))
}

func (m *BytesMap) deleteAt(i uint64) {
	e := entryOf(*m.slot(i))
	m.payload -= int(e.klen) + int(e.vlen)
	m.freeEntry(e)
	// A slot followed by an empty one ends every probe sequence through
	// it: it can be empty too, instead of a freedSlot.
	if *m.slot((i + 1) & m.mask) == 0 {
		*m.slot(i) = 0
	} else {
		*m.slot(i) = freedSlot
		m.tombs++
	}
	m.n--
	m.mods++
}

// DeleteFunc calls f on every entry, with views of its key and value
// valid until f returns, and deletes the entries for which f returns
// true; it returns how many it deleted. f must not use the map. It is
// how a cache sweeps out what has expired, which an All loop may not do.
func (m *BytesMap) DeleteFunc(f func(k, v []byte) bool) int {
	deleted := 0
	for i := range m.slotCount() {
		w := *m.slot(i)
		if w == 0 || w == freedSlot {
			continue
		}
		mods := m.mods
		e := entryOf(w)
		del := f(e.key(), e.value())
		if m.mods != mods {
			panic("nalloc: BytesMap changed during DeleteFunc")
		}
		if del {
			// Always a freedSlot here: clearing the slot could end a probe
			// sequence the loop has yet to pass.
			e := entryOf(*m.slot(i))
			m.payload -= int(e.klen) + int(e.vlen)
			m.freeEntry(e)
			*m.slot(i) = freedSlot
			m.tombs++
			m.n--
			m.mods++
			deleted++
		}
	}
	return deleted
}

// All returns an iterator over the entries, in the order of the index,
// with views of each key and value that are valid until the map changes.
// The map must not be changed during the loop: a Put, Delete, Clear or
// Close there makes All panic when the loop body returns (before it
// reads the map again). To delete during a pass, use DeleteFunc.
func (m *BytesMap) All() iter.Seq2[[]byte, []byte] {
	return func(yield func(k, v []byte) bool) {
		mods := m.mods
		for i := range m.slotCount() {
			w := *m.slot(i)
			if w == 0 || w == freedSlot {
				continue
			}
			e := entryOf(w)
			if !yield(e.key(), e.value()) {
				return
			}
			if m.mods != mods {
				panic("nalloc: BytesMap changed during All; use DeleteFunc to delete in a pass")
			}
		}
	}
}

// Clear removes every entry, giving their blocks back, and keeps the
// index for reuse.
func (m *BytesMap) Clear() {
	m.freeEntries()
	if m.slots != nil {
		clearBytes(m.slots, uintptr(m.slotCount())*8)
	}
	m.n, m.tombs, m.payload = 0, 0, 0
	m.mods++
}

func (m *BytesMap) freeEntries() {
	for i := range m.slotCount() {
		if w := *m.slot(i); w != 0 && w != freedSlot {
			m.freeEntry(entryOf(w))
		}
	}
}

// Close gives every block back to the allocator and empties the map. The
// map may be used again afterwards; Close of a closed map does nothing.
func (m *BytesMap) Close() {
	m.freeEntries()
	if m.slots != nil {
		m.a.Deallocate(m.slots, Layout{Size: uintptr(m.slotCount()) * 8, Align: 8})
	}
	m.slots, m.mask = nil, 0
	m.n, m.tombs, m.payload, m.entries = 0, 0, 0, 0
	m.mods++
}
