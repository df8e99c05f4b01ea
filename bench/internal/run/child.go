// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package run runs the shoot-out's measurements, each in a child process
// of its own: the Go side (this binary, re-executed, with a Spec) and the
// C side (csrc, compiled at run time).
//
// The shoot-out's only knowledge of the native backends is what the
// backend kernel says of each registered one (native.Specs): nothing in
// bench names a backend. The C and cgo entry points come from Spec.Pair,
// the user's libraries (-library) from Spec.OpenLibrary.
package run

// Every measurement runs in a process of its own: one child per
// allocator, workload and run, the binary re-executing itself with
// ChildEnv set. Why:
//
//   - Peak RSS and page faults are figures of a whole process. In a
//     shared process they would mix allocators and workloads, and each
//     allocator keeps what it freed (glibc's arenas, jemalloc's extents,
//     mimalloc's segments, the Go heap's spans), so whoever ran second
//     would start on the first one's memory.
//   - gc-pressure measures the garbage collector, whose pacing depends on
//     everything the process allocated before.
//   - A crash (a bug in an allocator, or in nalloc) costs one cell, not
//     the shoot-out.
//
// It costs a few milliseconds of process start per run, a fraction of a
// percent of the runtime. The C side runs the same way (native.go), so both
// columns pay it alike, and runs of different allocators interleave, so a
// burst of noise on a shared machine spreads over all of them.
//
// The protocol: the parent passes a JSON Spec in the environment and
// reads lines from the child's stdout, tab-separated:
//
//	V     case  metric  value   a figure (case may be empty)
//	NA    reason                the workload does not apply to the allocator
//	INFO  key   value           about the allocator (load check only)
//
// A child that fails writes why to stderr and exits non-zero; exit status
// 3 means the allocator did not open.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bench/internal/metric"
	"github.com/nalloc/nalloc/bench/internal/peer"
	"github.com/nalloc/nalloc/bench/internal/workload"
	"github.com/nalloc/nalloc/internal/native"
	"github.com/nalloc/nalloc/jemalloc"
	"github.com/nalloc/nalloc/tcmalloc"
)

// ChildEnv holds a child's JSON Spec; its presence makes the process
// a child.
const ChildEnv = "NALLOC_BENCH_CHILD"

// exitNoOpen is a child's exit status when the allocator does not open.
const exitNoOpen = 3

// Spec is what one Go child runs.
type Spec struct {
	Allocator string `json:"allocator"` // the column's name
	// Backend and Library are set for a native column: the backend's
	// registered name, and the library to load if not the backend's
	// default (a -library column, or the cgo peer, which needs a path).
	Backend  string          `json:"backend,omitempty"`
	Library  string          `json:"library,omitempty"`
	Via      metric.Via      `json:"via,omitempty"` // metric.ViaGo (through nalloc) or metric.ViaCgo
	Workload string          `json:"workload"`      // "" for the load check
	Params   workload.Params `json:"params"`
}

// open returns how the child gets its allocator: through the registry,
// through the backend's OpenLibrary for a library of the user's, or as
// the cgo peer. The function returns a handle for one more thread: the
// same allocator, except for the registry's "go" and arenas, which give a
// new one per call.
func (s Spec) open() (func() (nalloc.Allocator, error), error) {
	var spec *native.Spec
	if s.Backend != "" {
		if spec = specByName(s.Backend); spec == nil {
			return nil, fmt.Errorf("no native backend %q is registered", s.Backend)
		}
		// A child runs one allocator. On macOS, jemalloc, mimalloc and
		// TCMalloc make themselves the process's default malloc zone as
		// they load, as they do in a C program linked with them: that is
		// what the column measures, so the child allows it (elsewhere
		// this does nothing).
		native.AllowDefaultZone(s.Backend)
	}
	switch {
	case s.Via == metric.ViaCgo:
		if spec == nil || s.Library == "" {
			return nil, fmt.Errorf("the cgo peer needs a native backend and its library, not %q", s.Allocator)
		}
		a, err := peer.OpenCgo(s.Allocator, s.Library, spec.Pair)
		return func() (nalloc.Allocator, error) { return a, err }, err
	case spec != nil && s.Library != "":
		a, err := spec.OpenLibrary(s.Library)
		return func() (nalloc.Allocator, error) { return a, err }, err
	}
	_, err := nalloc.Open(s.Allocator)
	return func() (nalloc.Allocator, error) { return nalloc.Open(s.Allocator) }, err
}

func specByName(name string) *native.Spec {
	for _, s := range native.Specs() {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Result is what one child (Go or C) reported.
type Result struct {
	Values []Value
	NA     string            // why the workload does not apply, if it does not
	Info   map[string]string // load check
	Took   time.Duration
}

// Value is one figure a child reported.
type Value struct {
	workload.RowKey
	V float64
}

// The main goroutine stays on the main OS thread (locked in init, the
// only way to be sure of it). A child runs its workload there, as the C
// side runs its own on its main thread: glibc gives the main thread its
// main arena (grown with brk) and other threads arenas of their own
// (grown with mmap), and the two trim differently, so Go and C must use
// the same kind.
func init() { runtime.LockOSThread() }

// ChildMain is the whole of a child process: run spec, print the lines.
func ChildMain(specJSON string, stdout, stderr io.Writer) int {
	var spec Spec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		fmt.Fprintf(stderr, "bench child: bad %s: %v\n", ChildEnv, err)
		return 2
	}
	open, err := spec.open()
	var a nalloc.Allocator
	if err == nil {
		a, err = open()
	}
	if err != nil {
		fmt.Fprintln(stderr, OneLine(err))
		return exitNoOpen
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	if spec.Workload == "" {
		for k, v := range allocatorInfo(a) {
			fmt.Fprintf(out, "INFO\t%s\t%s\n", k, Flatten(v))
		}
		return 0
	}
	w := workload.ByName(spec.Workload)
	if w == nil {
		fmt.Fprintf(stderr, "bench child: no workload %q\n", spec.Workload)
		return 2
	}
	if w.NotFor != nil {
		if why := w.NotFor(a); why != "" {
			fmt.Fprintf(out, "NA\t%s\n", why)
			return 0
		}
	}
	// Figures are kept until the run is over: no output, and no
	// formatting, while it runs.
	var vals []Value
	e := &workload.Env{A: a, Open: open, P: &spec.Params, Put: func(c, m string, v float64) {
		vals = append(vals, Value{workload.RowKey{Case: c, Metric: m}, v})
	}}
	runtime.GC()
	p0 := startProcess()
	if err := w.Run(e); err != nil {
		fmt.Fprintf(stderr, "%s on %s: %s\n", spec.Workload, spec.Allocator, OneLine(err))
		return 1
	}
	p0.report(e)
	e.Stats("after")
	for _, v := range vals {
		fmt.Fprintf(out, "V\t%s\t%s\t%g\n", v.Case, v.Metric, v.V)
	}
	return 0
}

// allocatorInfo describes an allocator through the small interfaces the
// backends offer, found through its wrappers.
func allocatorInfo(a nalloc.Allocator) map[string]string {
	info := map[string]string{"type": fmt.Sprintf("%T", a)}
	if _, ok := nalloc.As[workload.Resetter](a); ok {
		info["arena"] = "Reset"
	}
	if n, ok := nalloc.As[nalloc.Native](a); ok {
		info["library"] = n.Library()
		if v := n.Version(); v != "" {
			info["version"] = v
		}
	}
	return info
}

// Environ is the environment of every child: the parent's, with
// the static-TLS tunable that lets a process dlopen Debian's
// libjemalloc.so.2 after start (jemalloc.Environ), TCMalloc preloaded
// where dlopen cannot load it (tcmalloc.Environ: on linux/arm64), and
// extra. Every child, Go or C, starts with it, whichever allocator it
// runs, so that the environment is the same for all.
func Environ(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, ChildEnv+"=") {
			env = append(env, kv)
		}
	}
	return append(tcmalloc.Environ(jemalloc.Environ(env)), extra...)
}

// Runner starts the children: this binary for the Go side, the
// compiled C program for the C side, each killed after timeout.
type Runner struct {
	Timeout time.Duration
	C       NativeSide
}

// GoChild runs spec in a child process of this binary.
func (r *Runner) GoChild(ctx context.Context, spec Spec) (Result, error) {
	exe, err := os.Executable()
	if err != nil {
		return Result{}, fmt.Errorf("cannot find this binary to run a child: %w", err)
	}
	js, err := json.Marshal(spec)
	if err != nil {
		return Result{}, err
	}
	return r.child(ctx, nil, Environ(ChildEnv+"="+string(js)), exe)
}

// ErrNoOpen is wrapped by a child's error when the child says its
// allocator did not open; the error's text is the child's reason.
var ErrNoOpen = errors.New("allocator did not open")

// child runs the program args[0] with args, the environment env and
// stdin, and parses its lines.
func (r *Runner) child(ctx context.Context, stdin []byte, env []string, args ...string) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	t0 := time.Now()
	err := cmd.Run()
	res := Result{Took: time.Since(t0)}
	if err != nil {
		why := Flatten(stderr.String())
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ee.ExitCode() == exitNoOpen && why != "" {
				return res, fmt.Errorf("%w: %s", ErrNoOpen, why)
			}
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				err = fmt.Errorf("killed by signal %v", ws.Signal())
			}
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("timed out after %v (-timeout)", r.Timeout)
		}
		if why != "" {
			err = fmt.Errorf("%v: %s", err, why)
		}
		return res, err
	}
	res, err = parseChild(stdout.Bytes())
	res.Took = time.Since(t0)
	return res, err
}

// parseChild reads a child's output lines.
func parseChild(b []byte) (Result, error) {
	var res Result
	for line := range strings.Lines(string(b)) {
		f := strings.Split(strings.TrimRight(line, "\n"), "\t")
		switch {
		case f[0] == "V" && len(f) == 4:
			v, err := strconv.ParseFloat(f[3], 64)
			if err != nil {
				return res, fmt.Errorf("child printed a bad figure: %q", line)
			}
			res.Values = append(res.Values, Value{workload.RowKey{Case: f[1], Metric: f[2]}, v})
		case f[0] == "NA" && len(f) == 2:
			res.NA = f[1]
		case f[0] == "INFO" && len(f) == 3:
			if res.Info == nil {
				res.Info = map[string]string{}
			}
			res.Info[f[1]] = f[2]
		default:
			return res, fmt.Errorf("child printed an unexpected line: %q", line)
		}
	}
	return res, nil
}

// OneLine is err's text on a single line (see Flatten).
func OneLine(err error) string { return Flatten(err.Error()) }

// Flatten puts text on a single line: the registry's errors give the
// import to add a line of its own, and a child's stderr may have several.
func Flatten(s string) string {
	s = strings.TrimSpace(s)
	s = strings.NewReplacer("\n\t", " ", "\n(", " (", "\r", "", "\n", "; ", "\t", " ").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}
