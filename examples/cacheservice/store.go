// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
	"sync"
	"unsafe"

	"github.com/nalloc/nalloc"
)

// The cache's entries have a fixed shape, so that the same entries can be
// kept in a Go map of Go values and in a nalloc.Map of pointer-free ones:
// keys of up to MaxKey bytes, values of up to MaxValue bytes.
const (
	MaxKey   = 31
	MaxValue = 510
)

// key is a cache key as pointer-free data: its length, then its bytes.
type key struct {
	n byte
	b [MaxKey]byte
}

// record is a cache value as pointer-free data: 512 bytes.
type record struct {
	n    uint16
	data [MaxValue]byte
}

var (
	errKey   = fmt.Errorf("cacheservice: keys are 1 to %d bytes", MaxKey)
	errValue = fmt.Errorf("cacheservice: values are at most %d bytes", MaxValue)
)

func makeKey(s string) (key, error) {
	var k key
	if len(s) == 0 || len(s) > MaxKey {
		return k, errKey
	}
	k.n = byte(copy(k.b[:], s))
	return k, nil
}

func makeRecord(v []byte) (record, error) {
	var r record
	if len(v) > MaxValue {
		return r, errValue
	}
	r.n = uint16(copy(r.data[:], v))
	return r, nil
}

// Store is the cache: a concurrent map from keys to values. Get appends
// the value stored under k to dst; Put stores a copy of v. Both refuse
// keys and values that do not fit the entry shape (errKey, errValue).
type Store interface {
	Get(k string, dst []byte) ([]byte, bool, error)
	Put(k string, v []byte) error
	Len() int
	// Close frees what the store holds off the Go heap.
	Close()
}

// Stores are the kinds of Store, by the name the -store flag takes.
var Stores = []string{"go", "go-flat", "nalloc"}

// storeDoc says what each store is, for the usage message.
var storeDoc = map[string]string{
	"go":      "map[string][]byte on the Go heap: the idiomatic Go cache, with two pointers an entry for the GC to trace",
	"go-flat": "map[key]record on the Go heap: pointer-free types, but Go keeps values over 128 bytes out of line, one object an entry",
	"nalloc":  "nalloc.Map[key, uint32] and slabs of records, in the -alloc allocator: off the Go heap",
}

// newStore returns the store of the given kind. a is the allocator of the
// nalloc store, unused by the others.
func newStore(kind string, a nalloc.Allocator) (Store, error) {
	switch kind {
	case "go":
		return newSharded(func() shardMap { return goMap{} }), nil
	case "go-flat":
		return newSharded(func() shardMap { return flatMap{} }), nil
	case "nalloc":
		var err error
		s := newSharded(func() shardMap {
			m, e := newNallocMap(a)
			if e != nil {
				err = errors.Join(err, e)
				return goMap{} // a placeholder, closed with the rest
			}
			return m
		})
		if err != nil {
			s.Close()
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("cacheservice: unknown store %q (the stores: %s)", kind, strings.Join(Stores, ", "))
}

// shardMap is one shard's map, used under its shard's lock.
type shardMap interface {
	get(k string, dst []byte) ([]byte, bool, error)
	put(k string, v []byte) error
	len() int
	close()
}

// shards is the number of shards: enough that the lock of one is seldom
// contended at the concurrency of a 2- to 16-core machine.
const shards = 64

// sharded is a Store of shards maps, each under a RWMutex, chosen by a
// hash of the key: the same structure for every kind of map.
type sharded struct {
	seed   maphash.Seed
	shards [shards]struct {
		mu sync.RWMutex
		m  shardMap
		_  [64 - unsafe.Sizeof(sync.RWMutex{}) - unsafe.Sizeof(shardMap(nil))]byte // a shard to a cache line
	}
}

func newSharded(newMap func() shardMap) *sharded {
	s := &sharded{seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].m = newMap()
	}
	return s
}

func (s *sharded) shard(k string) int { return int(maphash.String(s.seed, k) % shards) }

func (s *sharded) Get(k string, dst []byte) ([]byte, bool, error) {
	sh := &s.shards[s.shard(k)]
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return sh.m.get(k, dst)
}

func (s *sharded) Put(k string, v []byte) error {
	sh := &s.shards[s.shard(k)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.m.put(k, v)
}

func (s *sharded) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		n += sh.m.len()
		sh.mu.RUnlock()
	}
	return n
}

func (s *sharded) Close() {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		if sh.m != nil {
			sh.m.close()
		}
		sh.mu.Unlock()
	}
}

// goMap is the "go" store's shard.
type goMap map[string][]byte

func (m goMap) get(k string, dst []byte) ([]byte, bool, error) {
	if len(k) == 0 || len(k) > MaxKey {
		return dst, false, errKey
	}
	v, ok := m[k]
	return append(dst, v...), ok, nil
}

func (m goMap) put(k string, v []byte) error {
	switch {
	case len(k) == 0 || len(k) > MaxKey:
		return errKey
	case len(v) > MaxValue:
		return errValue
	}
	if old, ok := m[k]; ok && cap(old) >= len(v) {
		m[k] = append(old[:0], v...)
		return nil
	}
	m[k] = append([]byte(nil), v...)
	return nil
}

func (m goMap) len() int { return len(m) }
func (m goMap) close()   {}

// flatMap is the "go-flat" store's shard.
type flatMap map[key]record

func (m flatMap) get(k string, dst []byte) ([]byte, bool, error) {
	kk, err := makeKey(k)
	if err != nil {
		return dst, false, err
	}
	r, ok := m[kk]
	return append(dst, r.data[:r.n]...), ok, nil
}

func (m flatMap) put(k string, v []byte) error {
	kk, err := makeKey(k)
	if err != nil {
		return err
	}
	r, err := makeRecord(v)
	if err != nil {
		return err
	}
	m[kk] = r
	return nil
}

func (m flatMap) len() int { return len(m) }
func (m flatMap) close()   {}

// nallocMap is the "nalloc" store's shard: an index from keys to record
// numbers in a nalloc.Map, and the records in slabs of slabRecords from
// the same allocator, as Go's own map keeps values over 128 bytes out of
// line. A Swiss table holds its values in its slots, 7/16 to 7/8 full (see
// nalloc.Map), so 512-byte records held in the table itself would take
// 1.14 to 2.3 times their size; here only the 36-byte slots of the index
// do. Records are never freed one by one (the cache has no delete): a
// replaced value is written over its record.
type nallocMap struct {
	a     nalloc.Allocator
	index *nalloc.Map[key, uint32]
	slabs []*[slabRecords]record // in a's memory, which holds no Go pointers
	n     uint32                 // records in use
}

// slabRecords is the records in a slab: 64 KiB.
const slabRecords = 128

var slabLayout = nalloc.LayoutOf[[slabRecords]record]()

func newNallocMap(a nalloc.Allocator) (*nallocMap, error) {
	index, err := nalloc.NewMap[key, uint32](a, 0)
	if err != nil {
		return nil, err
	}
	return &nallocMap{a: a, index: index}, nil
}

func (m *nallocMap) record(i uint32) *record { return &m.slabs[i/slabRecords][i%slabRecords] }

func (m *nallocMap) get(k string, dst []byte) ([]byte, bool, error) {
	kk, err := makeKey(k)
	if err != nil {
		return dst, false, err
	}
	i, ok := m.index.Get(kk)
	if !ok {
		return dst, false, nil
	}
	r := m.record(i)
	return append(dst, r.data[:r.n]...), true, nil
}

func (m *nallocMap) put(k string, v []byte) error {
	kk, err := makeKey(k)
	if err != nil {
		return err
	}
	r, err := makeRecord(v)
	if err != nil {
		return err
	}
	if i, ok := m.index.Get(kk); ok {
		*m.record(i) = r
		return nil
	}
	if m.n == uint32(len(m.slabs))*slabRecords {
		p, err := m.a.Allocate(slabLayout)
		if err != nil {
			return err
		}
		m.slabs = append(m.slabs, (*[slabRecords]record)(p))
	}
	if err := m.index.TryPut(kk, m.n); err != nil {
		return err // the record stays free for the next key
	}
	*m.record(m.n) = r
	m.n++
	return nil
}

func (m *nallocMap) len() int { return m.index.Len() }

func (m *nallocMap) close() {
	m.index.Close()
	for _, s := range m.slabs {
		m.a.Deallocate(unsafe.Pointer(s), slabLayout)
	}
	m.slabs, m.n = nil, 0
}
