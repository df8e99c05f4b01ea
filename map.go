// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc

import (
	"fmt"
	"iter"
	"math"
	"math/bits"
	"reflect"
	"slices"
	"unsafe"

	"github.com/cockroachdb/swiss"
	"github.com/nalloc/nalloc/internal/nocopy"
	"github.com/nalloc/nalloc/internal/sysmem"
)

// Map is a hash map from K to V whose keys and values live in allocator
// memory: github.com/cockroachdb/swiss's Swiss table, with its groups (the
// arrays of control bytes, keys and values) allocated by an Allocator.
// Lookups cost what they cost in swiss on the Go heap; the garbage
// collector sees none of the entries.
//
// K and V must hold no Go pointers (see CheckPointerFree): NewMap refuses
// other types with ErrPointerType. Keys are compared with ==, as in Go's
// map; a NaN float key is never found again.
//
// # Memory
//
// swiss keeps a small directory on the Go heap (32 bytes per bucket of up
// to 4096 slots) and the Map header; everything else (8 control bytes and
// 8 key/value slots per group) is in blocks of a's memory, zeroed when
// allocated, each given back with the layout it was allocated with when
// swiss resizes or splits a bucket, and all of them at Close. A Map that is
// dropped without Close leaks its blocks. Freed blocks are held back while
// an All loop runs, so changing the map inside the loop is as safe as with
// a Go map.
//
// The values live in the table's slots, next to their keys, and a Swiss
// table keeps a bucket between 7/16 and 7/8 full (it doubles, or splits
// in two, when 7/8 of its slots are taken), so the groups take from 8/7
// to 16/7 of the bytes of the entries in them (1.14 to 2.3 times), by
// where each bucket is in its growth; with values of a few hundred bytes
// and more, that slack is most of the map's memory. Go's map moves values
// over 128 bytes out of its table, one object each, and so pays its slack
// in 8-byte pointers instead. To do the same here, keep large values in
// their own memory (a Vec, or fixed-size slabs, whose slack is at most one
// slab) and map keys to their indexes: a Map[K, uint32] pays the slack on
// small slots only.
//
// # Failure
//
// swiss's allocator interface cannot fail. A map grows in one of two
// ways: a single bucket (up to 4096 slots) doubles, or, past that size, a
// full bucket splits into two. When a bucket doubles, swiss has already
// changed its size before it asks for the new groups, so a refusal at
// that point would leave the bucket describing memory it does not have;
// when one splits, the new bucket's groups are the first thing swiss asks
// for, before it changes anything. TryPut relies on both: for a map that
// doubles, it reserves the block of the doubling, before it changes
// anything, on the insert that may double it (see TryPut), and a refusal
// of that block is its error; for a map that splits, a refusal of the new
// bucket's groups abandons swiss's insert with a panic that TryPut
// recovers. Either way TryPut returns the error and the map is exactly as
// it was. Put does neither: if the allocator refuses during Put (or if
// swiss ever asks for a block TryPut did not foresee), Map completes the
// resize with Go heap memory, so that the map stays consistent, takes the
// new entry out again, and Put panics with an error wrapping
// ErrOutOfMemory (as Go's own map would die), or TryPut returns it. In
// both cases the map holds exactly the entries it held before the call.
//
// The zero value is not usable: make Maps with NewMap. A Map is not safe
// for concurrent use (as swiss.Map and Go's map are not), and must not be
// copied.
type Map[K comparable, V any] struct {
	_     nocopy.NoCopy
	m     swiss.Map[K, V]
	alloc mapAllocator[K, V]
}

// bucketSlots is the largest number of slots a swiss bucket has before it
// splits in two (swiss's default, set explicitly because TryPut's
// reservation depends on it), and groupSlots the slots per group.
const (
	bucketSlots = 4096
	groupSlots  = 8
)

// maxGroupSize is the largest swiss group NewMap accepts. swiss's slice
// accessor declares a local of the element type, and the compiler moves a
// local over 128 KiB to the Go heap: past this size every lookup would
// allocate a group's worth of garbage.
const maxGroupSize = 128 << 10

// typeName names T for an error message.
func typeName[T any]() string { return reflect.TypeFor[T]().String() }

// NewMap returns an empty Map that allocates from a, sized to hold
// capacity entries without growing (0 allocates nothing until the first
// Put). It returns an error wrapping ErrPointerType if K or V holds Go
// pointers, ErrNilAllocator if a is nil, ErrInvalidLayout if capacity is
// negative or its size overflows, or if a group of 8 entries would take
// more than 128 KiB (swiss would copy a whole group to the Go heap on
// every lookup: keep values that large in a Vec and map keys to their
// indexes), and ErrOutOfMemory if a refuses the memory (everything
// allocated so far is given back) or if the table would be larger than
// the machine's memory.
func NewMap[K comparable, V any](a Allocator, capacity int) (*Map[K, V], error) {
	if err := CheckPointerFree[K](); err != nil {
		return nil, err
	}
	if err := CheckPointerFree[V](); err != nil {
		return nil, err
	}
	if a == nil {
		return nil, fmt.Errorf("%w: NewMap", ErrNilAllocator)
	}
	if size := unsafe.Sizeof(*(*swiss.Group[K, V])(nil)); size > maxGroupSize {
		return nil, fmt.Errorf("%w: Map[%s, %s]: a group of %d entries takes %d bytes, over %d KiB",
			ErrInvalidLayout, typeName[K](), typeName[V](), groupSlots, size, maxGroupSize>>10)
	}
	if err := checkMapCapacity[K, V](capacity); err != nil {
		return nil, err
	}
	m := &Map[K, V]{alloc: mapAllocator[K, V]{a: a}}
	if err := m.init(capacity); err != nil {
		return nil, err
	}
	return m, nil
}

// checkMapCapacity refuses a capacity whose groups could not exist, before
// swiss sizes its Go-heap directory for them (a directory for an absurd
// capacity would be a fatal Go heap allocation, not an error).
func checkMapCapacity[K comparable, V any](capacity int) error {
	if capacity < 0 {
		return fmt.Errorf("%w: NewMap capacity %d is negative", ErrInvalidLayout, capacity)
	}
	// swiss sizes for capacity*8/7 slots, in one power-of-two bucket up to
	// bucketSlots, else in a power-of-two number of full buckets.
	if capacity > math.MaxInt/groupSlots {
		return fmt.Errorf("%w: NewMap capacity %d overflows", ErrInvalidLayout, capacity)
	}
	slots := uint64(capacity) * groupSlots / 7
	if slots > bucketSlots {
		slots = bucketSlots << bits.Len64((slots+bucketSlots-1)/bucketSlots-1)
	}
	l, err := ArrayLayout[swiss.Group[K, V]](int(min(slots/groupSlots, math.MaxInt)))
	if err != nil {
		return fmt.Errorf("%w: NewMap capacity %d overflows", ErrInvalidLayout, capacity)
	}
	if uint64(l.Size) > sysmem.MaxGoAlloc() {
		return fmt.Errorf("%w: NewMap capacity %d needs %v, more than this machine's memory",
			ErrOutOfMemory, capacity, l)
	}
	return nil
}

// init initialises m.m for capacity entries. Here a refusal can be
// reported: swiss's Init is abandoned with a panic that init recovers, and
// the blocks it had allocated are given back.
func (m *Map[K, V]) init(capacity int) (err error) {
	al := &m.alloc
	al.building = true
	defer func() {
		al.building = false
		if r := recover(); r != nil {
			err = refusal(r)
			for _, g := range al.built {
				al.release(g)
			}
		}
		al.built = nil
	}()
	opts := []swiss.Option[K, V]{
		swiss.WithAllocator[K, V](al),
		swiss.WithMaxBucketCapacity[K, V](bucketSlots),
	}
	m.m.Init(capacity, append(opts, al.options...)...)
	al.reshape()
	return nil
}

// allocFailure carries an allocator's refusal out of swiss.Map.Init, or
// out of a Put that TryPut abandons.
type allocFailure struct{ err error }

// refusal returns the refusal that r, a value recovered from a panic,
// carries out of swiss; any other panic goes on.
func refusal(r any) error {
	f, ok := r.(allocFailure)
	if !ok {
		panic(r)
	}
	return f.err
}

// Len returns the number of entries.
func (m *Map[K, V]) Len() int { return m.m.Len() }

// Get returns the value stored under k, and whether there is one.
func (m *Map[K, V]) Get(k K) (V, bool) { return m.m.Get(k) }

// Delete removes the entry for k, if there is one. It never allocates.
func (m *Map[K, V]) Delete(k K) {
	n := m.m.Len()
	m.m.Delete(k)
	if m.m.Len() < n {
		m.alloc.deleted()
	}
}

// Put stores v under k, replacing any value there. If the map must grow
// and the allocator refuses, Put panics with an error wrapping
// ErrOutOfMemory, leaving the map with the entries it had (see Failure in
// the type's doc); use TryPut to get the error instead.
func (m *Map[K, V]) Put(k K, v V) {
	n := m.m.Len()
	m.m.Put(k, v)
	if m.alloc.failed != nil {
		panic(m.undo(k, n, "Put"))
	}
}

// TryPut stores v under k, replacing any value there, or returns an error
// wrapping ErrOutOfMemory if the map must grow and the allocator refuses;
// the map is then exactly as it was. Replacing the value of a key that is
// there never fails.
//
// To guarantee this while a map doubles (see Failure in the type's doc),
// TryPut allocates the doubled block before an insert of a new key that
// may need it, and keeps it until the insert that does. Which insert
// doubles the map depends on its tombstones (the slots deletes leave
// behind), which only swiss sees; Map counts the deletes since the last
// doubling, of which the tombstones are at most as many. So with no
// deletes, the very insert that doubles the map allocates the block, and
// none is held between calls; after d deletes, TryPut allocates it up to d
// entries earlier (at most a third of the bucket's slots), and gives it
// back at the next TryPut once deletes have taken the map out of that
// range. Peak memory is the same as Put's, which needs the block at the
// doubling. A map that splits needs no reservation; there TryPut costs a
// deferred recover more than Put.
//
// The forecast follows swiss's growth rules, which may change in a newer
// swiss than the one this version of nalloc was tested with: TryPut
// checks them on its first call (CheckMapGrowth) and, if they differ,
// returns an error wrapping ErrMapGrowth instead of breaking its promise.
func (m *Map[K, V]) TryPut(k K, v V) error {
	if err := CheckMapGrowth(); err != nil {
		return fmt.Errorf("nalloc: Map.TryPut: %w", err)
	}
	return m.tryPutChecked(k, v)
}

// tryPutChecked is TryPut once the growth rules are known to hold.
func (m *Map[K, V]) tryPutChecked(k K, v V) (err error) {
	al := &m.alloc
	n := m.m.Len()
	switch {
	case al.splits:
		// swiss asks for the new bucket before it changes anything: a
		// refusal of that block abandons the Put (a panic from Alloc,
		// recovered here) and leaves the map as it was.
		al.dropSpare()
		al.abortable = true
		defer func() {
			al.abortable = false
			if r := recover(); r != nil {
				err = fmt.Errorf("nalloc: Map.TryPut: %w", refusal(r))
			}
		}()
	case n <= al.quiet:
		al.dropSpare() // not needed yet, or no longer
	case len(al.spare) != al.next:
		if _, ok := m.m.Get(k); !ok { // replacing a value needs no memory
			if err := al.reserve(al.next); err != nil {
				return fmt.Errorf("nalloc: Map.TryPut: %w", err)
			}
		}
	}
	m.m.Put(k, v)
	if al.failed != nil {
		return m.undo(k, n, "TryPut")
	}
	return nil
}

// undo takes out the entry that a Put during which the allocator refused
// has added (if it added one, rather than replacing a value), and returns
// the refusal.
func (m *Map[K, V]) undo(k K, n int, op string) error {
	if m.m.Len() > n {
		m.m.Delete(k)
	}
	err := m.alloc.failed
	m.alloc.failed = nil
	return fmt.Errorf("nalloc: Map.%s: %w", op, err)
}

// All returns an iterator over the entries, in no particular order (it
// differs from one loop to the next, as with a Go map). The map may be
// changed during the loop: entries added may or may not be seen, deleted
// ones are not seen once deleted, and memory that a growth frees is held
// until the loop ends. The map must not be used concurrently with the
// loop.
func (m *Map[K, V]) All() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		m.alloc.iterating++
		defer m.alloc.endIteration()
		m.m.All(yield)
	}
}

// Clear removes every entry and keeps the memory, for reuse (but for a
// block TryPut had reserved, which it gives back).
func (m *Map[K, V]) Clear() {
	m.m.Clear()
	al := &m.alloc
	al.dropSpare()
	al.deletes = 0 // Clear leaves no tombstone
	al.reshape()
}

// Close gives every block back to the allocator and empties the map. The
// Map may be used again afterwards: it allocates anew when it grows. Close
// of a closed Map does nothing more.
func (m *Map[K, V]) Close() {
	m.m.Close()
	al := &m.alloc
	al.dropSpare()
	al.deletes = 0
	m.init(0) // allocates nothing, so it cannot fail
}

// mapAllocator is the swiss.Allocator of a Map. swiss asks for groups with
// Alloc(n), expecting the equivalent of make([]Group, n) (zeroed), and gives
// back exactly the slices Alloc returned, with the same length, to Free.
type mapAllocator[K comparable, V any] struct {
	a Allocator
	// options are swiss options after nalloc's own, for tests that make
	// swiss grow by other rules than TryPut forecasts.
	options []swiss.Option[K, V]

	// The shape of the map, as the blocks swiss holds show it: blocks is
	// how many it holds, top the group count of the largest one, and
	// classes how many it holds of each power-of-two group count (swiss
	// only asks for those).
	blocks  int
	top     int
	classes [64]int32

	// next is the group count of the block that the next growth of the
	// map will ask for, and quiet the largest Len at which inserting a new
	// key cannot grow the map (-1 if any insert may). TryPut keeps spare,
	// a zeroed block of next groups, once Len passes quiet, unless splits:
	// the next growth splits a bucket, which needs no spare. deletes
	// counts the entries deleted since the last block swiss took, a bound
	// on the tombstones of a single-bucket map.
	next    int
	quiet   int
	splits  bool
	deletes int
	spare   []swiss.Group[K, V]

	// abortable is set during TryPut on a map that splits, until swiss's
	// first Alloc: a refusal of that block abandons the Put.
	abortable bool

	// On the map that CheckMapGrowth drives (probing, where every insert
	// is a TryPut), allocs counts swiss's Allocs, and misses those that
	// TryPut had not foreseen (neither the spare nor an abortable first
	// block of a split), missed the group count of the last.
	probing bool
	allocs  int
	misses  int
	missed  int

	// failed is the allocator's refusal during the current Put, whose
	// resize was completed with fallback blocks from the Go heap.
	failed    error
	fallback  [][]swiss.Group[K, V]
	fallbacks int // how many times, for tests

	// building is set during NewMap, where a refusal aborts swiss's Init
	// with a panic instead, and built lists the blocks Init got.
	building bool
	built    [][]swiss.Group[K, V]

	// iterating counts the All loops running; Free holds blocks in
	// deferred meanwhile, since a loop may still read them.
	iterating int
	deferred  [][]swiss.Group[K, V]
}

// Alloc implements swiss.Allocator.
func (al *mapAllocator[K, V]) Alloc(n int) []swiss.Group[K, V] {
	al.allocs++
	g := al.spare
	if len(g) == n {
		al.spare = nil
	} else {
		if al.probing && !al.building && !(al.abortable && n == al.top) {
			al.misses++
			al.missed = n
		}
		var err error
		if g, err = al.allocate(n); err != nil {
			g = al.refused(n, err)
		}
	}
	al.abortable = false
	if al.building {
		al.built = append(al.built, g)
	}
	al.deletes = 0 // the bucket that took g has no tombstone
	al.track(n, +1)
	return g
}

// refused returns a Go heap block of n groups, to keep swiss consistent
// when the allocator refuses a block, and records the refusal; or, if
// nothing has changed yet, abandons the operation with a panic that
// NewMap or TryPut recovers. Nothing has changed yet during swiss's Init,
// and at the first block of a TryPut on a map that splits if the block
// is of the size of the buckets there (top): a bucket that doubles would
// ask for twice that.
func (al *mapAllocator[K, V]) refused(n int, err error) []swiss.Group[K, V] {
	if al.building || al.abortable && n == al.top {
		panic(allocFailure{err})
	}
	if al.failed == nil {
		al.failed = err
	}
	al.fallbacks++
	// K and V are pointer-free, so this is a noscan object; fallback keeps
	// it alive while swiss, which holds it through an unsafe.Pointer, uses
	// it.
	g := make([]swiss.Group[K, V], n)
	al.fallback = append(al.fallback, g)
	return g
}

// Free implements swiss.Allocator.
func (al *mapAllocator[K, V]) Free(g []swiss.Group[K, V]) {
	al.track(len(g), -1)
	if al.iterating > 0 {
		al.deferred = append(al.deferred, g)
		return
	}
	al.release(g)
}

func (al *mapAllocator[K, V]) endIteration() {
	if al.iterating--; al.iterating == 0 {
		for i, g := range al.deferred {
			al.release(g)
			al.deferred[i] = nil
		}
		al.deferred = al.deferred[:0]
	}
}

// allocate gets a zeroed block of n groups from the allocator.
func (al *mapAllocator[K, V]) allocate(n int) ([]swiss.Group[K, V], error) {
	l, err := ArrayLayout[swiss.Group[K, V]](n)
	if err != nil {
		return nil, err
	}
	p, err := AllocateZeroed(al.a, l)
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*swiss.Group[K, V])(p), n), nil
}

// release gives a block back: to the allocator, or to the garbage
// collector if it is a fallback block.
func (al *mapAllocator[K, V]) release(g []swiss.Group[K, V]) {
	if len(al.fallback) > 0 {
		if i := slices.IndexFunc(al.fallback, func(f []swiss.Group[K, V]) bool {
			return unsafe.SliceData(f) == unsafe.SliceData(g)
		}); i >= 0 {
			al.fallback = slices.Delete(al.fallback, i, i+1)
			return
		}
	}
	// Its layout was valid when it was allocated.
	l, _ := ArrayLayout[swiss.Group[K, V]](len(g))
	al.a.Deallocate(unsafe.Pointer(unsafe.SliceData(g)), l)
}

// reserve makes spare a block of n groups.
func (al *mapAllocator[K, V]) reserve(n int) error {
	al.dropSpare()
	g, err := al.allocate(n)
	if err != nil {
		return err
	}
	al.spare = g
	return nil
}

// dropSpare gives back the block TryPut reserved, if it holds one.
func (al *mapAllocator[K, V]) dropSpare() {
	if al.spare != nil {
		al.release(al.spare)
		al.spare = nil
	}
}

// deleted counts a delete, which may have left a tombstone.
func (al *mapAllocator[K, V]) deleted() {
	al.deletes++
	if al.blocks == 1 {
		al.reshape()
	}
}

// track counts a block of n groups that swiss took (+1) or gave back (-1),
// and works out from the blocks it holds what its next growth will ask
// for. This follows swiss's growth rules as of the version go.mod
// requires; CheckMapGrowth checks them against the swiss the program was
// built with before TryPut relies on them:
//
//   - A map with no block gets one group on its first insert.
//   - A single bucket of c slots grows when an insert finds no free slot;
//     it then holds full entries and tombstones, where full is c*7/8 (7
//     for one group, whose deletes never leave a tombstone: a group with
//     an empty slot has no need of one). If the tombstones are at least
//     c/3 it rehashes in place, without memory, so only an insert into a
//     map of at least full - min(deletes, c/3-1) entries can grow it. It
//     doubles while that stays within bucketSlots, and otherwise splits:
//     a new bucket of c slots.
//   - A map of several buckets, all of the same size, splits one of its
//     full buckets on some insert (which bucket is full is not visible
//     from here), asking for a bucket of that size first.
//
// If swiss strays from these rules (a degenerate hash can make it double a
// bucket instead of splitting it, leaving buckets of two sizes), the
// reservation of a block of the largest size, or else the fallback, keeps
// the map correct.
func (al *mapAllocator[K, V]) track(n, delta int) {
	class := bits.Len(uint(n)) - 1
	al.classes[class] += int32(delta)
	al.blocks += delta
	switch {
	case delta > 0 && n > al.top:
		al.top = n
	case delta < 0 && n == al.top && al.classes[class] == 0:
		al.top = 0
		for c := class - 1; c >= 0; c-- {
			if al.classes[c] > 0 {
				al.top = 1 << c
				break
			}
		}
	}
	al.reshape()
}

// reshape works out next, quiet and splits from the blocks swiss holds.
func (al *mapAllocator[K, V]) reshape() {
	al.splits = false
	switch c := al.top * groupSlots; {
	case al.blocks == 0:
		al.next, al.quiet = 1, -1
	case al.blocks == 1 && c == groupSlots:
		al.next, al.quiet = 2, groupSlots-2
	case al.blocks == 1 && 2*c <= bucketSlots:
		al.next, al.quiet = 2*al.top, c*7/8-min(al.deletes, c/3-1)-1
	case int(al.classes[bits.Len(uint(al.top))-1]) == al.blocks:
		al.next, al.quiet, al.splits = al.top, -1, true
	default:
		al.next, al.quiet = al.top, -1
	}
}
