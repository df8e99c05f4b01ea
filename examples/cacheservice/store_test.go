// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bump"
)

// TestStores runs the same random operations on every store and on a Go
// map as the model: each store must answer as the model does.
func TestStores(t *testing.T) {
	for _, kind := range Stores {
		t.Run(kind, func(t *testing.T) {
			a, err := nalloc.Open("jemalloc")
			if err != nil {
				t.Fatal(err)
			}
			checked := nalloc.NewChecked(a)
			s, err := newStore(kind, checked, 3000, 3000*MaxValue)
			if err != nil {
				t.Fatal(err)
			}
			model := map[string][]byte{}
			rng := rand.New(rand.NewPCG(1, 2))
			for op := range 20_000 {
				k := fmt.Sprintf("k%d", rng.IntN(3000))
				if rng.IntN(3) == 0 {
					v := bytes.Repeat([]byte{byte(op)}, rng.IntN(MaxValue+1))
					if err := s.Put(k, v); err != nil {
						t.Fatalf("Put(%q, %d bytes): %v", k, len(v), err)
					}
					model[k] = v
					continue
				}
				got, ok, err := s.Get(k, []byte("prefix"))
				want, wantOK := model[k]
				if err != nil || ok != wantOK || !bytes.Equal(got, append([]byte("prefix"), want...)) {
					t.Fatalf("Get(%q) = %d bytes, %v, %v; want %d bytes, %v", k, len(got), ok, err, len(want), wantOK)
				}
			}
			if s.Len() != len(model) {
				t.Errorf("Len() = %d, want %d", s.Len(), len(model))
			}
			s.Close()
			if err := checked.Err(); err != nil {
				t.Error(err)
			}
			if leaks := checked.Leaks(); kind == "nalloc" && len(leaks) > 0 {
				t.Errorf("%d blocks still live after Close", len(leaks))
			}
		})
	}
}

func TestStoreRefusals(t *testing.T) {
	for _, kind := range Stores {
		s, err := newStore(kind, nalloc.NewGoHeap(), 10, 1000)
		if err != nil {
			t.Fatal(err)
		}
		long := strings.Repeat("k", MaxKey+1)
		if err := s.Put(long, nil); !errors.Is(err, errKey) {
			t.Errorf("%s: Put of a %d-byte key: %v, want errKey", kind, len(long), err)
		}
		if err := s.Put("", nil); !errors.Is(err, errKey) {
			t.Errorf("%s: Put of an empty key: %v, want errKey", kind, err)
		}
		if _, _, err := s.Get(long, nil); !errors.Is(err, errKey) {
			t.Errorf("%s: Get of a %d-byte key: %v, want errKey", kind, len(long), err)
		}
		if err := s.Put("k", make([]byte, MaxValue+1)); !errors.Is(err, errValue) {
			t.Errorf("%s: Put of a %d-byte value: %v, want errValue", kind, MaxValue+1, err)
		}
		s.Close()
	}
}

// TestStoreOutOfMemory fills the nalloc store on an arena with a limit:
// the refusal is an error wrapping nalloc.ErrOutOfMemory, and the store
// keeps every entry it took.
func TestStoreOutOfMemory(t *testing.T) {
	arena := bump.New(bump.WithLimit(8 << 20)) // one goroutine uses the store here, as an arena needs
	defer arena.Release()
	s, err := newStore("nalloc", arena, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v := bytes.Repeat([]byte{7}, MaxValue)
	var stored int
	for i := range 1 << 20 {
		err := s.Put(keyOf(uint64(i)), v)
		if err != nil {
			if !errors.Is(err, nalloc.ErrOutOfMemory) {
				t.Fatalf("Put %d: %v, want ErrOutOfMemory", i, err)
			}
			break
		}
		stored++
	}
	if stored == 1<<20 || s.Len() != stored {
		t.Fatalf("stored %d entries in an 8 MiB arena, Len %d", stored, s.Len())
	}
	for i := range stored {
		if got, ok, _ := s.Get(keyOf(uint64(i)), nil); !ok || !bytes.Equal(got, v) {
			t.Fatalf("entry %d of %d lost after the refusal", i, stored)
		}
	}
}
