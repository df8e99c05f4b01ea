// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Command cacheservice is an HTTP cache service whose entries can live on
// the Go heap or off it, in a nalloc allocator, and a load test that
// compares the two on loopback.
//
//	cacheservice serve -store nalloc -alloc jemalloc -gcpacer -entries 2000000
//	cacheservice load           # every store in turn, the full setting
//	cacheservice load -short    # the seconds-long setting CI runs
//
// serve fills the cache with -entries entries (keys of 8 to 62 bytes,
// values of 32 bytes to 4 KiB, skewed small: see value.go) and serves
// GET and PUT /cache/{key}, /metrics (Prometheus, with nalloc's
// collector), /debug/vars (expvar, with nalloc's map),
// /debug/pprof/nalloc (the nalloc store's heap profile, for go tool
// pprof) and /debug/runtime (the figures load reads). With -gcpacer it
// starts nalloc's GC pacer first, as a service that keeps its data off
// the Go heap does, and publishes the pacer's metrics beside the
// allocator's.
//
// load starts one serve process per run, on 127.0.0.1 only, and drives
// it from -concurrency connections with a mix of GETs and PUTs of
// uniformly chosen keys, checking every value it reads, until -requests
// requests are done or -duration has passed, whichever comes first. It
// reports for each run the throughput, the latency percentiles, what the
// server spent on garbage collection (cycles and CPU seconds, from
// runtime/metrics) and held (RSS, also per byte of keys and values, Go
// heap, off-heap) over the run. A run is a store, or a store and the
// pacer ("nalloc+pacer"); the default runs are every store and
// nalloc+pacer. Every store is sized so that nothing is evicted:
//
//	go         map[string][]byte on the Go heap, 64 shards under locks:
//	           the idiomatic Go cache
//	nalloc     nalloc.BytesMap, 64 shards under locks, in the -alloc
//	           allocator: keys, values and index off the Go heap
//	fastcache  github.com/VictoriaMetrics/fastcache: chunks from mmap
//	freecache  github.com/coocood/freecache: ring buffers in Go slices
//	           without pointers
//	otter      github.com/maypok86/otter/v2: a pointerful Go cache
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/nalloc/nalloc"
	_ "github.com/nalloc/nalloc/all"
	"github.com/nalloc/nalloc/jemalloc"
)

func main() {
	if err := start(); err != nil {
		fmt.Fprintln(os.Stderr, "cacheservice:", err)
	}
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "cacheservice:", err)
		}
		os.Exit(2)
	}
}

// start is what the process does before anything else: make jemalloc
// loadable (jemalloc.Reexec re-executes the program once with the
// static-TLS tunable if Debian's libjemalloc.so.2 needs it). An error
// here matters only to a server that opens jemalloc, which then fails with
// it.
func start() error {
	if err := jemalloc.Reexec(); err != nil && !errors.Is(err, nalloc.ErrLibraryNotFound) {
		return err
	}
	return nil
}

const usage = `usage:
  cacheservice serve [flags]   serve the cache
  cacheservice load [flags]    load-test every store in turn, on loopback
Run a subcommand with -h for its flags.`

// run runs the subcommand args[0] with the rest of args as its flags.
func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "load":
		return load(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stderr, usage)
		return flag.ErrHelp
	}
	return fmt.Errorf("unknown subcommand %q\n%s", args[0], usage)
}

func storeUsage() string {
	var b strings.Builder
	b.WriteString("where the entries live:")
	for _, s := range Stores {
		fmt.Fprintf(&b, "\n  %-8s %s", s, storeDoc[s])
	}
	return b.String()
}

// listening is the line serve prints once it serves, which load waits
// for: "listening on http://ADDR".
const listening = "listening on http://"

func serve(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "the address to listen on (port 0: any free port)")
	kind := fs.String("store", "nalloc", storeUsage())
	alloc := fs.String("alloc", "jemalloc", "the nalloc store's allocator: "+strings.Join(nalloc.Names(), ", "))
	entries := fs.Int("entries", 1_000_000, "entries to fill the cache with before serving")
	gogc := fs.Int("gogc", 0, "set GOGC (debug.SetGCPercent) if not 0; -1 turns the GC off")
	pace := fs.Bool("gcpacer", false, "start nalloc's GC pacer (nalloc.StartGCPacer) before filling the cache, so that\n"+
		"GOGC and the memory limit (GOMEMLIMIT, else 0.9 of a memory cgroup's) count the memory off the Go heap,\n"+
		"and publish its metrics")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected arguments %q", fs.Args())
	}
	if *gogc != 0 {
		debug.SetGCPercent(*gogc)
	}
	var pacer *nalloc.GCPacer
	if *pace {
		var err error
		// In a container with no GOMEMLIMIT, 0.9 of its memory limit.
		if pacer, err = nalloc.StartGCPacer(nalloc.GCPacerContainerLimit(0.9)); err != nil {
			return err
		}
		defer pacer.Stop()
	}
	s, err := newServer(*kind, *alloc, *entries, pacer)
	if err != nil {
		return err
	}
	defer s.Close()
	began := time.Now()
	if err := s.fill(*entries); err != nil {
		return err
	}
	filled := time.Since(began)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	shutDown := make(chan error, 1)
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shutDown <- srv.Shutdown(shut)
	}()
	paced := ""
	if pacer != nil {
		paced = ", GC pacer on"
	}
	fmt.Fprintf(stdout, "%s%s (store %s%s, %d entries filled in %v)\n",
		listening, ln.Addr(), *kind, paced, *entries, filled.Round(time.Millisecond))
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	// Serve returns as soon as Shutdown begins; the store is freed (by the
	// deferred Close) only once no handler can use it.
	return <-shutDown
}
