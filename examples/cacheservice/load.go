// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"
)

// loadConfig is a load test's setting.
type loadConfig struct {
	runs        []string // each a store and its options: see parseRun
	alloc       string
	entries     int
	requests    int
	duration    time.Duration
	concurrency int
	getRatio    float64
	gogc        int
	repeat      int
}

// pacerSuffix after a store's name in a run makes the run's server start
// the GC pacer (serve -gcpacer).
const pacerSuffix = "+pacer"

// defaultRuns are the runs of both settings: every store as it is, and
// the nalloc store with the pacer.
var defaultRuns = append(append([]string(nil), Stores...), "nalloc"+pacerSuffix)

// runSpec is what a run names: STORE[@ALLOC][+pacer][+gogc=N], e.g.
// "nalloc@glibc+pacer+gogc=10": the store, the nalloc store's allocator
// (if not -alloc), the GC pacer, a GOGC of the run's own (if not -gogc).
type runSpec struct {
	store, alloc string
	pacer        bool
	gogc         int // 0: the load's -gogc
}

// parseRun returns what run names, or an error.
func parseRun(run string) (runSpec, error) {
	parts := strings.Split(run, "+")
	var r runSpec
	r.store, r.alloc, _ = strings.Cut(parts[0], "@")
	if !slices.Contains(Stores, r.store) {
		return r, fmt.Errorf("load: run %q: unknown store %q (the stores: %s; a run is STORE[@ALLOC][+pacer][+gogc=N])",
			run, r.store, strings.Join(Stores, ", "))
	}
	for _, p := range parts[1:] {
		if p == "pacer" {
			r.pacer = true
			continue
		}
		n, ok := strings.CutPrefix(p, "gogc=")
		g, err := strconv.Atoi(n)
		if !ok || err != nil || g == 0 {
			return r, fmt.Errorf("load: run %q: unknown option %q (a run is STORE[@ALLOC][+pacer][+gogc=N], N not 0)", run, p)
		}
		r.gogc = g
	}
	return r, nil
}

// The two settings: full is make service's default (a cache of about
// 1 GiB; the project README's tables name the flags they ran with);
// short runs in seconds, for CI.
var (
	fullSetting = loadConfig{
		runs: defaultRuns, alloc: "jemalloc", entries: 2_000_000, requests: 600_000,
		duration: 60 * time.Second, concurrency: 16, getRatio: 0.9, repeat: 1,
	}
	shortSetting = loadConfig{
		runs: defaultRuns, alloc: "jemalloc", entries: 50_000, requests: 6_000,
		duration: 20 * time.Second, concurrency: 4, getRatio: 0.9, repeat: 1,
	}
)

func load(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	short := fs.Bool("short", false, "the seconds-long setting (CI's); flags given as well override it")
	runs := fs.String("runs", strings.Join(fullSetting.runs, ","), "the runs to compare, in order: each a store, with "+
		pacerSuffix+" for a server that runs the GC pacer;\n"+storeUsage())
	alloc := fs.String("alloc", fullSetting.alloc, "the nalloc store's allocator")
	entries := fs.Int("entries", fullSetting.entries, "entries the server fills its cache with")
	requests := fs.Int("requests", fullSetting.requests, "requests per store, at most")
	duration := fs.Duration("duration", fullSetting.duration, "time per store, at most")
	concurrency := fs.Int("concurrency", fullSetting.concurrency, "connections the requests are spread over")
	getRatio := fs.Float64("get-ratio", fullSetting.getRatio, "the share of requests that are GETs; the rest are PUTs")
	gogc := fs.Int("gogc", 0, "GOGC for the servers, if not 0")
	repeat := fs.Int("repeat", 1, "run every run this many times, in rounds, and report the median of each figure")
	asJSON := fs.Bool("json", false, "print the results as JSON instead of a table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := fullSetting
	if *short {
		cfg = shortSetting
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "runs":
			cfg.runs = strings.Split(*runs, ",")
		case "alloc":
			cfg.alloc = *alloc
		case "entries":
			cfg.entries = *entries
		case "requests":
			cfg.requests = *requests
		case "duration":
			cfg.duration = *duration
		case "concurrency":
			cfg.concurrency = *concurrency
		case "get-ratio":
			cfg.getRatio = *getRatio
		case "gogc":
			cfg.gogc = *gogc
		case "repeat":
			cfg.repeat = *repeat
		}
	})
	if err := cfg.validate(); err != nil {
		return err
	}
	results, err := loadRuns(cfg, stderr)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(results); jerr != nil {
			return jerr
		}
	} else {
		printResults(stdout, cfg, results)
	}
	return err
}

func (c loadConfig) validate() error {
	for _, r := range c.runs {
		if _, err := parseRun(r); err != nil {
			return err
		}
	}
	switch {
	case c.repeat < 1:
		return errors.New("load: -repeat must be at least 1")
	case c.entries < 1:
		return errors.New("load: -entries must be at least 1")
	case c.requests < 1 || c.concurrency < 1 || c.duration <= 0:
		return errors.New("load: -requests, -concurrency and -duration must be positive")
	case c.getRatio < 0 || c.getRatio > 1:
		return errors.New("load: -get-ratio is a share, from 0 to 1")
	}
	return nil
}

// result is what the load test measured for one run. The server's
// figures are differences over the load phase (GC cycles and CPU) or
// levels at its end (memory, GOGC).
type result struct {
	Run         string  `json:"run"`
	Repeats     int     `json:"repeats"` // the runs whose median this is
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	FirstError  string  `json:"first_error,omitempty"`
	Seconds     float64 `json:"seconds"`
	PerSecond   float64 `json:"requests_per_second"`
	P50         float64 `json:"p50_seconds"`
	P99         float64 `json:"p99_seconds"`
	P999        float64 `json:"p999_seconds"`
	GCCycles    uint64  `json:"gc_cycles"`
	GCCPU       float64 `json:"gc_cpu_seconds"`  // taken from the program: assists, dedicated workers, pauses
	GCIdle      float64 `json:"gc_idle_seconds"` // the idle mark workers, on CPU nothing else wanted
	CPU         float64 `json:"cpu_seconds"`
	RSS         uint64  `json:"rss_bytes"`
	PeakRSS     uint64  `json:"peak_rss_bytes"`
	HeapLive    uint64  `json:"heap_live_bytes"`
	OffHeap     int64   `json:"off_heap_bytes"`
	GOGC        int64   `json:"gogc"`                             // the runtime's: the pacer's if it runs
	PacerCount  uint64  `json:"gcpacer_off_heap_bytes,omitempty"` // the pacer's count
	Entries     int     `json:"entries"`
	Payload     uint64  `json:"payload_bytes"` // keys and values the fill stored
	RSSPerByte  float64 `json:"rss_per_payload_byte"`
	PeakPerByte float64 `json:"peak_rss_per_payload_byte"`
	ServerStart string  `json:"server,omitempty"` // the serve line: fill time
}

// loadRuns runs the load test of each run in turn, cfg.repeat times
// over (in rounds, so that a change in the machine's load meets every
// run alike), and returns for each run the median of its figures.
func loadRuns(cfg loadConfig, stderr io.Writer) ([]result, error) {
	all := make([][]result, len(cfg.runs))
	for round := range cfg.repeat {
		for i, run := range cfg.runs {
			fmt.Fprintf(stderr, "load: %s (round %d of %d): filling %d entries, then %d requests at most, for %v at most\n",
				run, round+1, cfg.repeat, cfg.entries, cfg.requests, cfg.duration)
			r, err := loadRun(cfg, run, stderr)
			if err != nil {
				return medians(all), fmt.Errorf("%s: %w", run, err)
			}
			all[i] = append(all[i], r)
			fmt.Fprintf(stderr, "load: %s: %.0f req/s, p50 %s p99 %s p99.9 %s, %d GC cycles, GC CPU %.3fs, RSS %s (%.2f a payload byte)\n",
				run, r.PerSecond, ms(r.P50), ms(r.P99), ms(r.P999), r.GCCycles, r.GCCPU, mib(r.RSS), r.RSSPerByte)
		}
	}
	return medians(all), nil
}

// medians returns, for each run's results, one result whose every figure
// is the median of that figure over the results (the upper median of an
// even count), with the requests and errors of all of them.
func medians(all [][]result) []result {
	var out []result
	for _, rs := range all {
		if len(rs) == 0 {
			continue
		}
		m := rs[0]
		m.Requests, m.Errors = 0, 0
		for _, r := range rs {
			m.Requests += r.Requests
			m.Errors += r.Errors
			if m.FirstError == "" {
				m.FirstError = r.FirstError
			}
		}
		m.Repeats = len(rs)
		med := func(f func(r result) float64) float64 {
			v := make([]float64, len(rs))
			for i, r := range rs {
				v[i] = f(r)
			}
			slices.Sort(v)
			return v[len(v)/2]
		}
		m.Seconds = med(func(r result) float64 { return r.Seconds })
		m.PerSecond = med(func(r result) float64 { return r.PerSecond })
		m.P50 = med(func(r result) float64 { return r.P50 })
		m.P99 = med(func(r result) float64 { return r.P99 })
		m.P999 = med(func(r result) float64 { return r.P999 })
		m.GCCycles = uint64(med(func(r result) float64 { return float64(r.GCCycles) }))
		m.GCCPU = med(func(r result) float64 { return r.GCCPU })
		m.GCIdle = med(func(r result) float64 { return r.GCIdle })
		m.CPU = med(func(r result) float64 { return r.CPU })
		m.RSS = uint64(med(func(r result) float64 { return float64(r.RSS) }))
		m.PeakRSS = uint64(med(func(r result) float64 { return float64(r.PeakRSS) }))
		m.HeapLive = uint64(med(func(r result) float64 { return float64(r.HeapLive) }))
		m.RSSPerByte = med(func(r result) float64 { return r.RSSPerByte })
		m.PeakPerByte = med(func(r result) float64 { return r.PeakPerByte })
		out = append(out, m)
	}
	return out
}

// childEnv marks a serve process that load started, for the test binary
// (see TestMain), which must run serve rather than its tests.
const childEnv = "CACHESERVICE_CHILD"

// startServer starts `serve` for the run on a free loopback port and
// returns it once it serves, with its address and its first line.
func startServer(cfg loadConfig, run string, stderr io.Writer) (*exec.Cmd, string, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", "", err
	}
	spec, err := parseRun(run)
	if err != nil {
		return nil, "", "", err
	}
	alloc, gogc := cfg.alloc, cfg.gogc
	if spec.alloc != "" {
		alloc = spec.alloc
	}
	if spec.gogc != 0 {
		gogc = spec.gogc
	}
	args := []string{"serve", "-addr", "127.0.0.1:0", "-store", spec.store, "-alloc", alloc,
		"-entries", strconv.Itoa(cfg.entries), "-gogc", strconv.Itoa(gogc)}
	if spec.pacer {
		args = append(args, "-gcpacer")
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", "", err
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), listening) {
				line <- sc.Text()
				break
			}
		}
		close(line)
		io.Copy(io.Discard, out)
	}()
	select {
	case l, ok := <-line:
		if ok {
			addr, _, _ := strings.Cut(strings.TrimPrefix(l, listening), " ")
			return cmd, addr, l, nil
		}
		err = errors.New("the server exited before it served")
	case <-time.After(10 * time.Minute):
		err = errors.New("the server did not serve within 10 minutes")
	}
	cmd.Process.Kill()
	if werr := cmd.Wait(); werr != nil {
		err = fmt.Errorf("%w (%v)", err, werr)
	}
	return nil, "", "", err
}

// stopServer ends the server with SIGTERM (it shuts down and frees its
// store), or kills it if it has not ended in 10 seconds.
func stopServer(cmd *exec.Cmd) error {
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		return errors.New("the server did not stop within 10 seconds of SIGTERM; killed")
	}
}

func loadRun(cfg loadConfig, run string, stderr io.Writer) (res result, err error) {
	cmd, addr, first, err := startServer(cfg, run, stderr)
	if err != nil {
		return res, err
	}
	defer func() {
		if serr := stopServer(cmd); serr != nil && err == nil {
			err = fmt.Errorf("server: %w", serr)
		}
	}()
	base := "http://" + addr
	client := &http.Client{
		Transport: &http.Transport{
			MaxIdleConns: cfg.concurrency, MaxIdleConnsPerHost: cfg.concurrency, DisableCompression: true,
		},
		Timeout: 30 * time.Second,
	}
	defer client.CloseIdleConnections()

	// Open every connection and touch the handlers before measuring.
	warm := cfg
	warm.requests, warm.getRatio = 4*cfg.concurrency, 1
	if w := drive(client, base, warm); w.errors > 0 {
		return res, fmt.Errorf("warm-up: %d of %d requests failed: %s", w.errors, w.done, w.firstError)
	}
	before, err := fetchRuntime(client, base)
	if err != nil {
		return res, err
	}
	d := drive(client, base, cfg)
	after, err := fetchRuntime(client, base)
	if err != nil {
		return res, err
	}
	slices.Sort(d.latencies)
	res = result{
		Run:         run,
		Requests:    d.done,
		Errors:      d.errors,
		FirstError:  d.firstError,
		Seconds:     d.elapsed.Seconds(),
		PerSecond:   float64(d.done) / d.elapsed.Seconds(),
		P50:         percentile(d.latencies, 0.50),
		P99:         percentile(d.latencies, 0.99),
		P999:        percentile(d.latencies, 0.999),
		GCCycles:    after.GCCycles - before.GCCycles,
		GCIdle:      after.GCIdleSeconds - before.GCIdleSeconds,
		GCCPU:       (after.GCCPUSeconds - after.GCIdleSeconds) - (before.GCCPUSeconds - before.GCIdleSeconds),
		CPU:         after.CPUSeconds - before.CPUSeconds,
		RSS:         after.RSSBytes,
		PeakRSS:     after.PeakRSSBytes,
		HeapLive:    after.HeapLiveBytes,
		OffHeap:     after.OffHeapBytes,
		GOGC:        after.GOGC,
		PacerCount:  after.PacerOffHeapBytes,
		Entries:     after.Entries,
		ServerStart: first,
	}
	res.Payload = payloadOf(cfg.entries)
	res.RSSPerByte = float64(res.RSS) / float64(res.Payload)
	res.PeakPerByte = float64(res.PeakRSS) / float64(res.Payload)
	return res, nil
}

// percentile returns the q-quantile of the sorted latencies, in seconds.
func percentile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(q*float64(len(sorted)-1))].Seconds()
}

func fetchRuntime(client *http.Client, base string) (runtimeStats, error) {
	var st runtimeStats
	resp, err := client.Get(base + "/debug/runtime")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET /debug/runtime: %s", resp.Status)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// driven is what drive did.
type driven struct {
	done, errors int
	firstError   string
	elapsed      time.Duration
	latencies    []time.Duration
}

// drive sends cfg.requests requests (fewer if cfg.duration passes first)
// from cfg.concurrency goroutines, each with its own connection and
// random keys, and checks every answer: a GET must return a value written
// for its key (at any version), a PUT must be taken.
func drive(client *http.Client, base string, cfg loadConfig) driven {
	var (
		issued   atomic.Int64
		mu       sync.Mutex
		total    driven
		wg       sync.WaitGroup
		began    = time.Now()
		deadline = began.Add(cfg.duration)
	)
	for w := range cfg.concurrency {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 0x5eed))
			lat := make([]time.Duration, 0, cfg.requests/cfg.concurrency+1)
			var errs int
			var first string
			body := make([]byte, 0, MaxValue)
			read := make([]byte, 0, MaxValue+1)
			for issued.Add(1) <= int64(cfg.requests) && time.Now().Before(deadline) {
				i := rng.Uint64N(uint64(cfg.entries))
				get := rng.Float64() < cfg.getRatio
				t0 := time.Now()
				var err error
				if get {
					read, err = getValue(client, base, i, read[:0])
				} else {
					body = appendValue(body[:0], i, rng.Uint64()|1)
					err = putValue(client, base, i, body)
				}
				lat = append(lat, time.Since(t0))
				if err != nil {
					if errs++; first == "" {
						first = err.Error()
					}
				}
			}
			mu.Lock()
			total.done += len(lat)
			total.errors += errs
			if total.firstError == "" {
				total.firstError = first
			}
			total.latencies = append(total.latencies, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	total.elapsed = time.Since(began)
	return total
}

func getValue(client *http.Client, base string, i uint64, buf []byte) ([]byte, error) {
	resp, err := client.Get(base + "/cache/" + keyOf(i))
	if err != nil {
		return buf, err
	}
	defer resp.Body.Close()
	b := bytes.NewBuffer(buf)
	if _, err := b.ReadFrom(resp.Body); err != nil {
		return buf, err
	}
	if resp.StatusCode != http.StatusOK {
		return b.Bytes(), fmt.Errorf("GET %s: %s", keyOf(i), resp.Status)
	}
	_, err = checkValue(b.Bytes(), i)
	return b.Bytes(), err
}

func putValue(client *http.Client, base string, i uint64, v []byte) error {
	req, err := http.NewRequest(http.MethodPut, base+"/cache/"+keyOf(i), bytes.NewReader(v))
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("PUT %s: %s", keyOf(i), resp.Status)
	}
	return nil
}

func printResults(w io.Writer, cfg loadConfig, results []result) {
	payload := payloadOf(cfg.entries)
	fmt.Fprintf(w, "cacheservice load: %d entries, keys of 8-62 bytes and values of 32 B-4 KiB (%s of keys and values), "+
		"%d connections, %.0f%% GETs, at most %d requests or %v per run, on 127.0.0.1; nalloc on %s unless @ says otherwise",
		cfg.entries, mib(payload), cfg.concurrency, cfg.getRatio*100, cfg.requests, cfg.duration, cfg.alloc)
	if cfg.repeat > 1 {
		fmt.Fprintf(w, "; each figure the median of %d rounds", cfg.repeat)
	}
	fmt.Fprint(w, "\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\trequests\terrors\treq/s\tp50\tp99\tp99.9\tGC cycles\tGC CPU\tGC/CPU\tidle GC\tGOGC\tRSS\tpeak RSS\tRSS/payload\tpeak/payload\tGo heap\toff-heap\t")
	for _, r := range results {
		share := 0.0
		if r.CPU > 0 {
			share = r.GCCPU / r.CPU
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%s\t%s\t%s\t%d\t%.3fs\t%.0f%%\t%.2fs\t%d\t%s\t%s\t%.2f\t%.2f\t%s\t%s\t\n",
			r.Run, r.Requests, r.Errors, r.PerSecond, ms(r.P50), ms(r.P99), ms(r.P999),
			r.GCCycles, r.GCCPU, share*100, r.GCIdle, r.GOGC, mib(r.RSS), mib(r.PeakRSS), r.RSSPerByte, r.PeakPerByte,
			mib(r.HeapLive), mib(uint64(max(r.OffHeap, 0))))
	}
	tw.Flush()
	fmt.Fprintln(w, "\nOver the load, in the server: GC cycles; GC CPU, the garbage collector's CPU time less its idle "+
		"mark workers (runtime/metrics /cpu/classes/gc/total less /cpu/classes/gc/mark/idle), that is what it took "+
		"from the program; GC/CPU, that as a share of the server's CPU time; idle GC, the idle mark workers, which run "+
		"only on CPU nothing else wanted. At its end: GOGC (the runtime's, which the GC pacer sets while it runs), "+
		"RSS, Go heap (live at the last GC), off-heap (the nalloc store's blocks). Peak RSS includes the fill. "+
		"RSS/payload: the RSS at the end (peak/payload: the peak) over the bytes of keys and values the fill stored.")
	for _, r := range results {
		if r.PacerCount > 0 {
			fmt.Fprintf(w, "%s: the GC pacer counted %s off the Go heap\n", r.Run, mib(r.PacerCount))
		}
	}
	for _, r := range results {
		if r.Errors > 0 {
			fmt.Fprintf(w, "%s: %d errors, the first: %s\n", r.Run, r.Errors, r.FirstError)
		}
	}
}

func ms(s float64) string { return strconv.FormatFloat(s*1e3, 'f', 2, 64) + "ms" }

func mib(b uint64) string { return strconv.FormatFloat(float64(b)/(1<<20), 'f', 0, 64) + "MiB" }
