// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nallocpprof_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/nallocpprof"
)

// The profile's contents are checked in the root package and, parsed by
// github.com/google/pprof/profile, in the module
// github.com/nalloc/nalloc/pproftest; here, how it is served.
func TestHandler(t *testing.T) {
	p := nalloc.NewProfiled(nalloc.NewGoHeap(), nalloc.ProfileRate(1))
	l := nalloc.Layout{Size: 1000, Align: 8}
	ptr, err := p.Allocate(l)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Deallocate(ptr, l)
	mux := http.NewServeMux()
	mux.Handle(nallocpprof.Path, nallocpprof.Handler(p))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, tc := range []struct {
		method, query string
		status        int
	}{
		{"GET", "", 200},
		{"GET", "?debug=0&gc=1", 200},
		{"HEAD", "", 200},
		{"GET", "?debug=1", 400},
		{"GET", "?seconds=5", 400},
		{"POST", "", 405},
	} {
		req, err := http.NewRequest(tc.method, srv.URL+nallocpprof.Path+tc.query, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		what := tc.method + " " + nallocpprof.Path + tc.query
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d: %s", what, resp.StatusCode, tc.status, body)
			continue
		}
		if tc.status != 200 {
			if !strings.HasPrefix(string(body), "nallocpprof: ") {
				t.Errorf("%s: error body %q, want it prefixed nallocpprof: ", what, body)
			}
			continue
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
			t.Errorf("%s: Content-Type %q", what, ct)
		}
		if tc.method == "HEAD" {
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: not gzip: %v", what, err)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !bytes.Contains(raw, []byte("inuse_space")) || !bytes.Contains(raw, []byte("TestHandler")) {
			t.Errorf("%s: the profile names no inuse_space or no TestHandler", what)
		}
	}
}
