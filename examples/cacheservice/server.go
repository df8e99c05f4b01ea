// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"encoding/json"
	"errors"
	"expvar"
	"fmt"
	"io"
	"net/http"
	"runtime/metrics"
	"sync"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/nallocpprof"
	"github.com/nalloc/nalloc/nallocprom"
	"github.com/nalloc/nalloc/nallocvar"
	"github.com/nalloc/nalloc/osmem"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// server is the cache service: the store, and the HTTP handlers over it.
type server struct {
	kind  string           // the store's kind
	alloc string           // the nalloc store's allocator, "" for the others
	store Store            //
	off   *nalloc.Counting // the nalloc store's allocator, counted; nil for the others
	pacer *nalloc.GCPacer  // the GC pacer, if the process runs one
	mux   *http.ServeMux
	vars  []string // the expvar maps published, for Close
}

// newServer makes the store of kind (on the allocator named alloc, for the
// nalloc store), sized for entries entries, and its handlers, with the
// metrics of pacer if it is not nil:
//
//	GET /cache/{key}    the value, or 404
//	PUT /cache/{key}    store the body: 204, or 400 (key), 413 (value), 507 (memory)
//	GET /debug/runtime  runtimeStats as JSON: what the load test reads
//	GET /metrics        Prometheus: nallocprom's collector, Go's and the process's
//	GET /debug/vars     expvar, with nallocvar's map
//	GET /debug/pprof/nalloc  the nalloc store's heap profile (nallocpprof), for go tool pprof
//
// The metrics are registered on a registry of the server's own, and the
// expvar maps are published as "cache" and nallocvar.GCPacerName (one
// server to a process) until Close.
func newServer(kind, alloc string, entries int, pacer *nalloc.GCPacer) (*server, error) {
	s := &server{kind: kind, pacer: pacer, mux: http.NewServeMux()}
	var a nalloc.Allocator
	if kind == "nalloc" {
		na, err := nalloc.Open(alloc)
		if err != nil {
			return nil, err
		}
		s.alloc, s.off = alloc, nalloc.NewCounting(na)
		prof := nalloc.NewProfiled(s.off) // sampled as Go samples its heap, served for go tool pprof
		s.mux.Handle("GET "+nallocpprof.Path, nallocpprof.Handler(prof))
		a = prof
	}
	store, err := newStore(kind, a, entries, payloadOf(entries))
	if err != nil {
		return nil, err
	}
	s.store = store

	if err := s.publish(); err != nil {
		s.Close()
		return nil, err
	}
	s.mux.HandleFunc("GET /cache/{key}", s.get)
	s.mux.HandleFunc("PUT /cache/{key}", s.put)
	s.mux.HandleFunc("GET /debug/runtime", s.runtime)
	s.mux.Handle("GET /debug/vars", expvar.Handler())
	return s, nil
}

// publish registers the metrics and serves them on /metrics, and
// publishes the expvar maps: nalloc's collector and map of the nalloc
// store's allocator and of the pacer, for those the server has.
func (s *server) publish() error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	var opts []nallocprom.Option
	if s.off != nil {
		opts = append(opts, nallocprom.WithAllocator(s.alloc, s.off))
		if err := nallocvar.Publish(expvarName, s.off); err != nil {
			return err
		}
		s.vars = append(s.vars, expvarName)
	}
	if s.pacer != nil {
		opts = append(opts, nallocprom.WithGCPacer(s.pacer))
		if err := nallocvar.PublishGCPacer(s.pacer); err != nil {
			return err
		}
		s.vars = append(s.vars, nallocvar.GCPacerName)
	}
	if len(opts) == 0 {
		return nil
	}
	col, err := nallocprom.NewCollector(opts...)
	if err != nil {
		return err
	}
	return reg.Register(col)
}

// fill stores the first n entries (keyOf, appendValue at version 0).
func (s *server) fill(n int) error {
	buf := make([]byte, 0, MaxValue)
	for i := range uint64(n) {
		if err := s.store.Put(keyOf(i), appendValue(buf[:0], i, 0)); err != nil {
			return fmt.Errorf("fill: entry %d: %w", i, err)
		}
	}
	return nil
}

// expvarName is the name of the nalloc store's map under nallocvar.Var.
const expvarName = "cache"

// Close unpublishes the expvar maps and frees the store.
func (s *server) Close() {
	for _, name := range s.vars {
		nallocvar.Unpublish(name)
	}
	s.store.Close()
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// bufs are the buffers requests read values into and write them from.
var bufs = sync.Pool{New: func() any { b := make([]byte, 0, MaxValue+1); return &b }}

func (s *server) get(w http.ResponseWriter, r *http.Request) {
	bp := bufs.Get().(*[]byte)
	defer bufs.Put(bp)
	v, ok, err := s.store.Get(r.PathValue("key"), (*bp)[:0])
	switch {
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
	case !ok:
		http.NotFound(w, r)
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(v)
	}
	*bp = v[:0]
}

func (s *server) put(w http.ResponseWriter, r *http.Request) {
	bp := bufs.Get().(*[]byte)
	defer bufs.Put(bp)
	v, err := readBody(r.Body, (*bp)[:0])
	*bp = v[:0]
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if len(v) > MaxValue {
		http.Error(w, errValue.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	switch err := s.store.Put(r.PathValue("key"), v); {
	case errors.Is(err, nalloc.ErrOutOfMemory):
		http.Error(w, err.Error(), http.StatusInsufficientStorage)
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// readBody appends up to MaxValue+1 bytes of body to dst: one more than a
// value may have, so that a longer body shows.
func readBody(body io.Reader, dst []byte) ([]byte, error) {
	for len(dst) <= MaxValue {
		n, err := body.Read(dst[len(dst):min(cap(dst), MaxValue+1)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// runtimeStats is what GET /debug/runtime reports: the server process's
// state as the load test compares it between stores.
type runtimeStats struct {
	Store     string `json:"store"`
	Allocator string `json:"allocator,omitempty"`
	Entries   int    `json:"entries"`
	// From runtime/metrics.
	GCCycles      uint64  `json:"gc_cycles"`       // /gc/cycles/total:gc-cycles
	GCCPUSeconds  float64 `json:"gc_cpu_seconds"`  // /cpu/classes/gc/total:cpu-seconds
	GCIdleSeconds float64 `json:"gc_idle_seconds"` // /cpu/classes/gc/mark/idle:cpu-seconds, part of the above
	HeapLiveBytes uint64  `json:"heap_live_bytes"` // /gc/heap/live:bytes, as of the last GC
	HeapGoalBytes uint64  `json:"heap_goal_bytes"` // /gc/heap/goal:bytes
	GoTotalBytes  uint64  `json:"go_total_bytes"`  // /memory/classes/total:bytes: all the Go runtime maps
	GOGC          int64   `json:"gogc"`            // /gc/gogc:percent, -1 for off; the pacer's while it runs
	MemoryLimit   uint64  `json:"memory_limit"`    // /gc/gomemlimit:bytes
	// From the OS: getrusage and /proc/self/status.
	CPUSeconds   float64 `json:"cpu_seconds"` // user and system
	RSSBytes     uint64  `json:"rss_bytes"`
	PeakRSSBytes uint64  `json:"peak_rss_bytes"`
	// The nalloc store's blocks, as its Counting counts them.
	OffHeapBytes int64 `json:"off_heap_bytes"`
	// The GC pacer's count (GCPacer.OffHeap), if it runs: the process's
	// anonymous memory less the Go runtime's.
	GCPacer           bool   `json:"gcpacer"`
	PacerOffHeapBytes uint64 `json:"gcpacer_off_heap_bytes"`
}

var runtimeMetrics = []string{
	"/gc/cycles/total:gc-cycles",
	"/cpu/classes/gc/total:cpu-seconds",
	"/gc/heap/live:bytes",
	"/gc/heap/goal:bytes",
	"/memory/classes/total:bytes",
	"/gc/gogc:percent",
	"/gc/gomemlimit:bytes",
	"/cpu/classes/gc/mark/idle:cpu-seconds",
}

func (s *server) readRuntime() (runtimeStats, error) {
	samples := make([]metrics.Sample, len(runtimeMetrics))
	for i, name := range runtimeMetrics {
		samples[i].Name = name
	}
	metrics.Read(samples)
	st := runtimeStats{
		Store:         s.kind,
		Allocator:     s.alloc,
		Entries:       s.store.Len(),
		GCCycles:      samples[0].Value.Uint64(),
		GCCPUSeconds:  samples[1].Value.Float64(),
		HeapLiveBytes: samples[2].Value.Uint64(),
		HeapGoalBytes: samples[3].Value.Uint64(),
		GoTotalBytes:  samples[4].Value.Uint64(),
		GOGC:          int64(samples[5].Value.Uint64()),
		MemoryLimit:   samples[6].Value.Uint64(),
		GCIdleSeconds: samples[7].Value.Float64(),
	}
	if s.off != nil {
		st.OffHeapBytes = s.off.Counts().LiveBytes
	}
	if s.pacer != nil {
		st.GCPacer, st.PacerOffHeapBytes = true, s.pacer.OffHeap()
	}
	cpu, err := processCPU()
	if err != nil {
		return st, err
	}
	st.CPUSeconds = cpu
	mem, err := osmem.ReadCheap()
	if errors.Is(err, errors.ErrUnsupported) {
		return st, nil // no memory figures on this system (Windows): 0
	}
	if err != nil {
		return st, err
	}
	st.RSSBytes, st.PeakRSSBytes = mem.RSS, mem.PeakRSS
	return st, nil
}

func (s *server) runtime(w http.ResponseWriter, r *http.Request) {
	st, err := s.readRuntime()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(st)
}
