// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package nallocpprof serves the heap profile of a nalloc.Profiled over
// HTTP the way net/http/pprof serves the Go heap's at /debug/pprof/heap,
// so that the tools that read the one read the other:
//
//	p := nalloc.NewProfiled(a)
//	mux.Handle(nallocpprof.Path, nallocpprof.Handler(p))
//
//	go tool pprof http://localhost:8080/debug/pprof/nalloc
//	go tool pprof -sample_index=alloc_space -base old.pb.gz http://localhost:8080/debug/pprof/nalloc
//
// It is a package of its own so that the root package links no net/http.
package nallocpprof

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/nalloc/nalloc"
)

// Path is where Handler is conventionally mounted: beside net/http/pprof's
// profiles (an exact pattern on an http.ServeMux wins over its
// "/debug/pprof/" prefix), under a name of its own, since the Go heap's
// profile keeps /debug/pprof/heap.
const Path = "/debug/pprof/nalloc"

// Handler returns a handler that serves p's heap profile
// (nalloc.Profiled.WriteHeapProfile): gzipped profile.proto, as
// application/octet-stream, for GET and HEAD.
//
// Of net/http/pprof's query parameters, it honours debug=0 (the
// default); the legacy text form (debug=1) and delta profiles (seconds=N)
// get 400 Bad Request: compare two profiles with `go tool pprof -base`.
// gc=1 is accepted and does nothing: no collection changes what is live
// off the Go heap.
func Handler(p *nalloc.Profiled) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			serveError(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		q := r.URL.Query()
		if d := q.Get("debug"); d != "" {
			if n, err := strconv.Atoi(d); err != nil || n != 0 {
				serveError(w, http.StatusBadRequest, "only debug=0 (the protobuf profile) is served")
				return
			}
		}
		if q.Has("seconds") {
			serveError(w, http.StatusBadRequest, "delta profiles are not served; compare two with go tool pprof -base")
			return
		}
		// Written to a buffer first, so that a failure is a clean 500.
		var buf bytes.Buffer
		if err := p.WriteHeapProfile(&buf); err != nil {
			serveError(w, http.StatusInternalServerError, "writing the profile: "+err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="nalloc-heap"`)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		if r.Method == http.MethodGet {
			_, _ = w.Write(buf.Bytes()) // the client went away; nothing to tell it
		}
	})
}

func serveError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte("nallocpprof: " + msg + "\n"))
}
