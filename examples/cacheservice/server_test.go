// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/nalloc/nalloc"
)

// request sends a request to s and returns the status and body.
func request(t *testing.T, s http.Handler, method, path string, body []byte) (int, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(method, path, bytes.NewReader(body)))
	out, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, out
}

func TestServer(t *testing.T) {
	for _, kind := range Stores {
		// freecache's and fastcache's budgets are Go heap and mapped
		// memory, mostly never written: give them back to the OS once
		// the store is gone, or the GC pacer of TestServerWithPacer,
		// which counts the process's resident memory less the Go heap
		// it holds, would take that untouched heap off its count.
		t.Cleanup(debug.FreeOSMemory)
		t.Run(kind, func(t *testing.T) {
			s, err := newServer(kind, "jemalloc", 100, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.fill(100); err != nil {
				t.Fatal(err)
			}
			code, body := request(t, s, "GET", "/cache/"+keyOf(42), nil)
			if _, err := checkValue(body, 42); code != http.StatusOK || err != nil {
				t.Errorf("GET a filled key: %d, %v", code, err)
			}
			v := appendValue(nil, 42, 9)
			if code, _ := request(t, s, "PUT", "/cache/"+keyOf(42), v); code != http.StatusNoContent {
				t.Errorf("PUT: %d, want 204", code)
			}
			if _, body := request(t, s, "GET", "/cache/"+keyOf(42), nil); !bytes.Equal(body, v) {
				t.Errorf("GET after PUT: not the value put")
			}
			for _, c := range []struct {
				method, path string
				body         []byte
				want         int
			}{
				{"GET", "/cache/" + keyOf(100), nil, http.StatusNotFound},
				{"GET", "/cache/" + strings.Repeat("k", MaxKey+1), nil, http.StatusBadRequest},
				{"PUT", "/cache/k", make([]byte, MaxValue+1), http.StatusRequestEntityTooLarge},
				{"PUT", "/cache/k", make([]byte, MaxValue), http.StatusNoContent},
				{"DELETE", "/cache/k", nil, http.StatusMethodNotAllowed},
			} {
				if code, body := request(t, s, c.method, c.path, c.body); code != c.want {
					t.Errorf("%s %s with %d bytes: %d %q, want %d", c.method, c.path, len(c.body), code, body, c.want)
				}
			}

			_, body = request(t, s, "GET", "/debug/runtime", nil)
			var st runtimeStats
			if err := json.Unmarshal(body, &st); err != nil || st.Store != kind || st.Entries != 101 || st.RSSBytes == 0 {
				t.Errorf("/debug/runtime: %s (%v)", body, err)
			}
			if kind == "nalloc" && st.OffHeapBytes < int64(payloadOf(100)) {
				t.Errorf("/debug/runtime: off_heap_bytes %d for 101 entries", st.OffHeapBytes)
			}

			_, body = request(t, s, "GET", "/metrics", nil)
			for _, want := range []string{"go_gc_duration_seconds", "process_resident_memory_bytes"} {
				if !bytes.Contains(body, []byte(want)) {
					t.Errorf("/metrics lacks %s", want)
				}
			}
			if nalloc := bytes.Contains(body, []byte(`nalloc_live_bytes{allocator="jemalloc"}`)); nalloc != (kind == "nalloc") {
				t.Errorf("/metrics has nalloc_live_bytes: %v, want it for the nalloc store only", nalloc)
			}
			if bytes.Contains(body, []byte("nalloc_gcpacer_")) {
				t.Errorf("/metrics has the pacer's metrics with no pacer")
			}
			if kind == "nalloc" {
				_, body = request(t, s, "GET", "/debug/vars", nil)
				var vars struct {
					Nalloc map[string]map[string]int64 `json:"nalloc"`
				}
				if err := json.Unmarshal(body, &vars); err != nil || vars.Nalloc["cache"]["live_bytes"] < int64(payloadOf(100)) {
					t.Errorf("/debug/vars: nalloc.cache = %v (%v)", vars.Nalloc["cache"], err)
				}
			}
		})
	}
}

// TestServerWithPacer: with the GC pacer, /metrics and /debug/vars have
// its metrics, and /debug/runtime its count and the GOGC it set.
func TestServerWithPacer(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	p, err := nalloc.StartGCPacer()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	s, err := newServer("nalloc", "jemalloc", 25_000, p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.fill(25_000); err != nil { // 13 MiB off the Go heap
		t.Fatal(err)
	}
	waitFor(t, "the pacer to count the filled cache", func() bool { return p.OffHeap() >= 10<<20 })

	_, body := request(t, s, "GET", "/metrics", nil)
	for _, want := range []string{"nalloc_gcpacer_running 1\n", "nalloc_gcpacer_program_gogc_percent 100\n",
		"nalloc_gcpacer_off_heap_bytes ", `nalloc_live_bytes{allocator="jemalloc"}`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	_, body = request(t, s, "GET", "/debug/vars", nil)
	var vars struct {
		Nalloc map[string]map[string]int64 `json:"nalloc"`
	}
	if err := json.Unmarshal(body, &vars); err != nil || vars.Nalloc["gcpacer"]["gcpacer_off_heap_bytes"] < 10<<20 {
		t.Errorf("/debug/vars: nalloc.gcpacer = %v (%v)", vars.Nalloc["gcpacer"], err)
	}
	_, body = request(t, s, "GET", "/debug/runtime", nil)
	var st runtimeStats
	if err := json.Unmarshal(body, &st); err != nil || !st.GCPacer || st.PacerOffHeapBytes < 10<<20 || st.GOGC <= 100 {
		t.Errorf("/debug/runtime with the pacer: %s (%v)", body, err)
	}
}

// waitFor polls cond for up to 10 seconds, or fails t.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
