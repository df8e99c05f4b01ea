// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// TestLoadShort runs the load test in its short setting, as CI does: a
// server process per run (this test binary, see TestMain), driven on
// loopback. It checks the runs, not the speed: every request answered
// correctly, the figures there and consistent, the cache where each
// store says it keeps it, and the pacer at work where it runs: GOGC
// raised for the memory off the Go heap, which it counts, and no more GC
// cycles than the same store without it.
func TestLoadShort(t *testing.T) {
	var out, log bytes.Buffer
	if err := load([]string{"-short", "-json"}, &out, &log); err != nil {
		t.Fatalf("load -short: %v\n%s", err, log.Bytes())
	}
	var results []result
	if err := json.Unmarshal(out.Bytes(), &results); err != nil {
		t.Fatalf("load -short -json: %v\n%s", err, out.Bytes())
	}
	if len(results) != len(defaultRuns) {
		t.Fatalf("%d results, want one per run (%v)", len(results), defaultRuns)
	}
	cfg := shortSetting
	values := payloadOf(cfg.entries)
	byRun := map[string]result{}
	for i, r := range results {
		byRun[r.Run] = r
		if r.Run != defaultRuns[i] {
			t.Errorf("result %d is for %q, want %q", i, r.Run, defaultRuns[i])
		}
		if r.Errors > 0 || r.Requests == 0 || r.Requests > cfg.requests {
			t.Errorf("%s: %d requests, %d errors (%s)", r.Run, r.Requests, r.Errors, r.FirstError)
		}
		if !(0 < r.P50 && r.P50 <= r.P99 && r.P99 <= r.P999) || r.PerSecond <= 0 {
			t.Errorf("%s: p50 %v p99 %v p99.9 %v, %v req/s: not a distribution", r.Run, r.P50, r.P99, r.P999, r.PerSecond)
		}
		if r.Entries != cfg.entries || r.RSS < values || r.PeakRSS < r.RSS || r.CPU <= 0 || r.GCCPU < 0 || r.GCIdle < 0 {
			t.Errorf("%s: %d entries, RSS %d (peak %d) for %d bytes of values, CPU %vs",
				r.Run, r.Entries, r.RSS, r.PeakRSS, values, r.CPU)
		}
		// The nalloc store's entries are off the Go heap, in its
		// allocator; fastcache's too, in chunks it maps itself; the
		// others' on it (freecache's in pointer-free slices).
		spec, err := parseRun(r.Run)
		if err != nil {
			t.Fatal(err)
		}
		store, pacer := spec.store, spec.pacer
		switch store {
		case "nalloc":
			if r.OffHeap < int64(values) || r.HeapLive >= values {
				t.Errorf("%s: %d bytes off-heap and %d live on the Go heap, for %d bytes of keys and values",
					r.Run, r.OffHeap, r.HeapLive, values)
			}
		case "fastcache":
			if r.OffHeap != 0 || r.HeapLive >= values {
				t.Errorf("%s: %d bytes live on the Go heap, for %d bytes of keys and values", r.Run, r.HeapLive, values)
			}
		default:
			// The Go heap's live bytes are as of the last cycle, which
			// may have come before the fill's last entries.
			if r.OffHeap != 0 || r.HeapLive < values/2 {
				t.Errorf("%s: %d bytes off-heap and %d live on the Go heap, for %d bytes of keys and values",
					r.Run, r.OffHeap, r.HeapLive, values)
			}
		}
		if r.Payload != values || r.RSSPerByte <= 1 {
			t.Errorf("%s: payload %d, want %d; RSS per payload byte %.2f", r.Run, r.Payload, values, r.RSSPerByte)
		}
		// The pacer counts the process's memory, which holds the
		// store's blocks, give or take its blind spots: the Go
		// runtime's untouched pages make it read a few MiB low, and
		// the allocator's free pages and metadata high. Under the race
		// detector it counts the detector's shadow memory too.
		if pacer && (r.PacerCount < uint64(r.OffHeap)*3/4 || !raceEnabled && r.PacerCount > uint64(r.OffHeap)+64<<20) {
			t.Errorf("%s: the pacer counted %d bytes with %d in the store", r.Run, r.PacerCount, r.OffHeap)
		}
		if !pacer && r.PacerCount != 0 {
			t.Errorf("%s: a pacer's count (%d) without the pacer", r.Run, r.PacerCount)
		}
	}
	paced, plain := byRun["nalloc"+pacerSuffix], byRun["nalloc"]
	if paced.GOGC <= plain.GOGC || paced.GCCycles > plain.GCCycles {
		t.Errorf("nalloc with the pacer: GOGC %d and %d GC cycles; without: GOGC %d and %d cycles",
			paced.GOGC, paced.GCCycles, plain.GOGC, plain.GCCycles)
	}
	if testing.Verbose() {
		printResults(os.Stdout, cfg, results)
	}
}

func TestLoadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-runs", "go,nope"},
		{"-runs", "nope+pacer"},
		{"-entries", "0"},
		{"-get-ratio", "1.5"},
		{"-concurrency", "0"},
		{"-repeat", "0"},
		{"-runs", "nalloc+gogc=x"},
		{"-runs", "nalloc+fast"},
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
