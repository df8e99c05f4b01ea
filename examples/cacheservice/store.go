// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
	"sync"
	"unsafe"

	"github.com/VictoriaMetrics/fastcache"
	"github.com/coocood/freecache"
	"github.com/maypok86/otter/v2"
	"github.com/nalloc/nalloc"
)

var (
	errKey   = fmt.Errorf("cacheservice: keys are 1 to %d bytes", MaxKey)
	errValue = fmt.Errorf("cacheservice: values are at most %d bytes", MaxValue)
)

// Store is the cache: a concurrent map from keys to values. Get appends
// the value stored under k to dst; Put stores a copy of v. Both refuse
// keys and values over the service's limits (errKey, errValue).
type Store interface {
	Get(k string, dst []byte) ([]byte, bool, error)
	Put(k string, v []byte) error
	Len() int
	// Close frees what the store holds off the Go heap.
	Close()
}

// Stores are the kinds of Store, by the name the -store flag takes.
var Stores = []string{"go", "nalloc", "fastcache", "freecache", "otter"}

// storeDoc says what each store is, for the usage message.
var storeDoc = map[string]string{
	"go":        "map[string][]byte on the Go heap, 64 shards: the idiomatic Go cache, two pointers an entry for the GC to trace",
	"nalloc":    "nalloc.BytesMap, 64 shards, in the -alloc allocator: keys, values and index off the Go heap",
	"fastcache": "github.com/VictoriaMetrics/fastcache: 64 KiB chunks from mmap, off the Go heap, and a Go map index",
	"freecache": "github.com/coocood/freecache: 256 ring buffers and their indexes in pointer-free Go slices",
	"otter":     "github.com/maypok86/otter/v2: a concurrent S3-FIFO cache of Go strings and []byte, pointerful",
}

// newStore returns the store of the given kind, for about entries
// entries of payload bytes of keys and values in all. a is the
// allocator of the nalloc store, unused by the others. Every store is
// sized so that nothing is evicted: the maps are made for entries, and
// the peers that have a byte budget get twice the payload, which costs
// them address space, not memory, until they write it.
func newStore(kind string, a nalloc.Allocator, entries int, payload uint64) (Store, error) {
	var s Store
	switch kind {
	case "go":
		s = newSharded(func() shardMap { return make(goMap, entries/shards) })
	case "nalloc":
		var err error
		sh := newSharded(func() shardMap {
			m, e := nalloc.NewBytesMap(a, entries/shards)
			if e != nil {
				err = errors.Join(err, e)
				return goMap{} // a placeholder, closed with the rest
			}
			return bytesMap{m}
		})
		if err != nil {
			sh.Close()
			return nil, err
		}
		s = sh
	case "fastcache":
		s = fastStore{fastcache.New(int(budget(entries, payload)))}
	case "freecache":
		s = freeStore{freecache.NewCache(int(budget(entries, payload)))}
	case "otter":
		c, err := otter.New(&otter.Options[string, []byte]{MaximumSize: 2*entries + 1024, InitialCapacity: entries})
		if err != nil {
			return nil, err
		}
		s = otterStore{c}
	default:
		return nil, fmt.Errorf("cacheservice: unknown store %q (the stores: %s)", kind, strings.Join(Stores, ", "))
	}
	return limited{s}, nil
}

// budget is the byte budget of a peer with one: twice the payload and
// the peers' per-entry headers (freecache's 24 bytes, fastcache's 4),
// and room for small fills.
func budget(entries int, payload uint64) uint64 {
	return 2*(payload+24*uint64(entries)) + 64<<20
}

// limited checks keys and values against the service's limits before
// its store sees them.
type limited struct{ Store }

func (l limited) Get(k string, dst []byte) ([]byte, bool, error) {
	if len(k) == 0 || len(k) > MaxKey {
		return dst, false, errKey
	}
	return l.Store.Get(k, dst)
}

func (l limited) Put(k string, v []byte) error {
	switch {
	case len(k) == 0 || len(k) > MaxKey:
		return errKey
	case len(v) > MaxValue:
		return errValue
	}
	return l.Store.Put(k, v)
}

// bytesOf returns the bytes of s without copying them, for the peers'
// APIs, which take keys as []byte and do not keep them.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// fastStore is the "fastcache" store. fastcache is safe for concurrent
// use (512 buckets, each under a lock).
type fastStore struct{ c *fastcache.Cache }

func (f fastStore) Get(k string, dst []byte) ([]byte, bool, error) {
	v, ok := f.c.HasGet(dst, bytesOf(k))
	return v, ok, nil
}

func (f fastStore) Put(k string, v []byte) error { f.c.Set(bytesOf(k), v); return nil }

func (f fastStore) Len() int {
	var st fastcache.Stats
	f.c.UpdateStats(&st)
	return int(st.EntriesCount)
}

func (f fastStore) Close() { f.c.Reset() }

// freeStore is the "freecache" store, safe for concurrent use (256
// segments, each under a lock).
type freeStore struct{ c *freecache.Cache }

func (f freeStore) Get(k string, dst []byte) ([]byte, bool, error) {
	err := f.c.GetFn(bytesOf(k), func(v []byte) error { dst = append(dst, v...); return nil })
	if errors.Is(err, freecache.ErrNotFound) {
		return dst, false, nil
	}
	return dst, err == nil, err
}

func (f freeStore) Put(k string, v []byte) error { return f.c.Set(bytesOf(k), v, 0) }
func (f freeStore) Len() int                     { return int(f.c.EntryCount()) }
func (f freeStore) Close()                       { f.c.Clear() }

// otterStore is the "otter" store: Go strings and byte slices, on the Go
// heap, in a cache safe for concurrent use.
type otterStore struct{ c *otter.Cache[string, []byte] }

func (o otterStore) Get(k string, dst []byte) ([]byte, bool, error) {
	v, ok := o.c.GetIfPresent(k)
	return append(dst, v...), ok, nil
}

func (o otterStore) Put(k string, v []byte) error {
	o.c.Set(strings.Clone(k), append([]byte(nil), v...))
	return nil
}

func (o otterStore) Len() int { return o.c.EstimatedSize() }
func (o otterStore) Close()   { o.c.InvalidateAll() }

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
	v, ok := m[k]
	return append(dst, v...), ok, nil
}

func (m goMap) put(k string, v []byte) error {
	if old, ok := m[k]; ok && cap(old) >= len(v) {
		m[k] = append(old[:0], v...)
		return nil
	}
	m[k] = append([]byte(nil), v...)
	return nil
}

func (m goMap) len() int { return len(m) }
func (m goMap) close()   {}

// bytesMap is the "nalloc" store's shard.
type bytesMap struct{ m *nalloc.BytesMap }

func (b bytesMap) get(k string, dst []byte) ([]byte, bool, error) {
	v, ok := b.m.Get(k, dst)
	return v, ok, nil
}

func (b bytesMap) put(k string, v []byte) error { return b.m.Put(k, v) }
func (b bytesMap) len() int                     { return b.m.Len() }
func (b bytesMap) close()                       { b.m.Close() }
