// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"unsafe"
)

// TestLoadShort runs the load test in its short setting, as CI does: a
// server process per store (this test binary, see TestMain), driven on
// loopback. It checks the run, not the speed: every request answered
// correctly, the figures there and consistent, and the cache where each
// store says it keeps it.
func TestLoadShort(t *testing.T) {
	var out, log bytes.Buffer
	if err := load([]string{"-short", "-json"}, &out, &log); err != nil {
		t.Fatalf("load -short: %v\n%s", err, log.Bytes())
	}
	var results []result
	if err := json.Unmarshal(out.Bytes(), &results); err != nil {
		t.Fatalf("load -short -json: %v\n%s", err, out.Bytes())
	}
	if len(results) != len(Stores) {
		t.Fatalf("%d results, want one per store (%v)", len(results), Stores)
	}
	cfg := shortSetting
	values := uint64(cfg.entries) * valueLen
	for i, r := range results {
		if r.Store != Stores[i] {
			t.Errorf("result %d is for %q, want %q", i, r.Store, Stores[i])
		}
		if r.Errors > 0 || r.Requests == 0 || r.Requests > cfg.requests {
			t.Errorf("%s: %d requests, %d errors (%s)", r.Store, r.Requests, r.Errors, r.FirstError)
		}
		if !(0 < r.P50 && r.P50 <= r.P99 && r.P99 <= r.P999) || r.PerSecond <= 0 {
			t.Errorf("%s: p50 %v p99 %v p99.9 %v, %v req/s: not a distribution", r.Store, r.P50, r.P99, r.P999, r.PerSecond)
		}
		if r.Entries != cfg.entries || r.RSS < values || r.PeakRSS < r.RSS || r.CPU <= 0 || r.GCCPU < 0 || r.GCIdle < 0 {
			t.Errorf("%s: %d entries, RSS %d (peak %d) for %d bytes of values, CPU %vs",
				r.Store, r.Entries, r.RSS, r.PeakRSS, values, r.CPU)
		}
		// The nalloc store's entries are off the Go heap; the others' on it.
		offHeap := r.Store == "nalloc"
		entrySize := int64(unsafe.Sizeof(key{}) + unsafe.Sizeof(record{}))
		if offHeap && (r.OffHeap < int64(cfg.entries)*entrySize || r.HeapLive >= values) {
			t.Errorf("%s: %d bytes off-heap and %d live on the Go heap, for %d entries of %d bytes",
				r.Store, r.OffHeap, r.HeapLive, cfg.entries, entrySize)
		}
		if !offHeap && (r.OffHeap != 0 || r.HeapLive < values) {
			t.Errorf("%s: %d bytes off-heap and %d live on the Go heap, for %d bytes of values",
				r.Store, r.OffHeap, r.HeapLive, values)
		}
	}
	if testing.Verbose() {
		printResults(os.Stdout, cfg, results)
	}
}

func TestLoadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-stores", "go,nope"},
		{"-entries", "0"},
		{"-get-ratio", "1.5"},
		{"-concurrency", "0"},
	} {
		var out, log bytes.Buffer
		if err := load(args, &out, &log); err == nil {
			t.Errorf("load %q: no error", args)
		}
	}
	var log bytes.Buffer
	if err := run([]string{"nope"}, &log, &log); err == nil {
		t.Errorf("run nope: no error")
	}
}
