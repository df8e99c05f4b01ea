// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestProfileServed: the nalloc store's heap profile is served on
// loopback, gzipped, with the store's own code among its stacks (the
// module github.com/nalloc/nalloc/pproftest parses such profiles with
// google/pprof).
func TestProfileServed(t *testing.T) {
	s, err := newServer("nalloc", "jemalloc", 20000, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.fill(20000); err != nil { // 11 MB of entries: about 20 samples
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/debug/pprof/nalloc")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /debug/pprof/nalloc: %s", resp.Status)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatalf("the profile is not gzipped: %v", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"inuse_space", "examples/cacheservice/"} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("the profile does not name %q", want)
		}
	}
}
