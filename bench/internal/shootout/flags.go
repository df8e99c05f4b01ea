// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package shootout

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bench/internal/metric"
	"github.com/nalloc/nalloc/bench/internal/peer"
	"github.com/nalloc/nalloc/bench/internal/run"
	"github.com/nalloc/nalloc/bench/internal/workload"
	"github.com/nalloc/nalloc/internal/native"
)

// config is the shoot-out's settings, from the flags.
type config struct {
	Allocators []contender
	Workloads  []*workload.Workload
	Runs       int
	Quick      bool
	Format     string
	Chart      string
	Native     bool
	Threads    int
	Touch      bool
	GCLive     int64
	Timeout    time.Duration // per child process
	From       string        // a saved JSON report to print instead of measuring
	Params     workload.Params
}

// contender is one column of the shoot-out: a registered allocator, or a
// native library of the user's (-library) under a known backend.
type contender struct {
	Name    string       // the column: "glibc", "make", "mimalloc@libmimalloc.so.3"
	Native  *native.Spec // the native backend, or nil for the Go allocators and the peers
	Library string       // a -library column's path; "" for the backend's default
}

// spec is how a Go child runs c.
func (c contender) spec(v metric.Via, library string) run.Spec {
	s := run.Spec{Allocator: c.Name, Library: c.Library, Via: v}
	if c.Native != nil {
		s.Backend = c.Native.Name
	}
	if v == metric.ViaCgo {
		s.Library = library
	}
	return s
}

// registered returns every registered allocator as a contender, in the
// order the table shows them: make (the baseline), the other Go
// allocators and peers, then the native backends, each group sorted.
func registered() []contender {
	natives := map[string]*native.Spec{}
	for _, s := range native.Specs() {
		natives[s.Name] = s
	}
	var goSide, native []contender
	for _, n := range nalloc.Names() {
		switch {
		case natives[n] != nil:
			native = append(native, contender{Name: n, Native: natives[n]})
		case n == peer.MakeName:
			goSide = slices.Insert(goSide, 0, contender{Name: n})
		default:
			goSide = append(goSide, contender{Name: n})
		}
	}
	return append(goSide, native...)
}

var formats = []string{"table", "csv", "json", "benchstat"}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// parseFlags parses the shoot-out's command line. It returns flag.ErrHelp
// for -h, and a *usageError for anything wrong, saying what and how to
// fix it.
func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by the caller, once
	var (
		allocators = fs.String("allocators", "all", "comma-separated allocators to compare (`names`), or all")
		libraries  libraryFlag
		wls        = fs.String("workloads", "all", "comma-separated workloads to run (`names`), or all: "+strings.Join(workload.Names(), ", "))
		runs       = fs.Int("runs", 5, "runs per figure; the table shows their median (`n`; -quick: 3)")
		quick      = fs.Bool("quick", false, "a smoke run of seconds: fewer runs, rounds and steps, a 64 MiB live set")
		format     = fs.String("format", "table", "output `format`: "+strings.Join(formats, ", "))
		chart      = fs.String("chart", "", "also draw the figures to `file` (.svg or .png)")
		native     = fs.Bool("native", true, "run the same workloads in C for the native column (needs a C compiler)")
		noNative   = fs.Bool("no-native", false, "skip the native column")
		threads    = fs.Int("threads", 16, "the threaded workloads run on 1, 2, 4, ... threads up to `n`, and n itself (xmalloc: -w n/2 for the even ones)")
		touch      = fs.Bool("touch", false, "malloc-large writes one byte per page of each block, making it resident")
		gcLive     = sizeFlag{v: 1 << 30}
		timeout    = fs.Duration("timeout", 10*time.Minute, "kill a run that takes longer than `duration`")
		from       = fs.String("from", "", "measure nothing: print the report saved in `file` (by -format json) in -format, and draw -chart from it")
	)
	fs.Var(&gcLive, "gc-live", "gc-pressure's live set (`size`: 1GiB, 512MiB; -quick: 64MiB)")
	fs.Var(&libraries, "library", "also measure the library at a path under a native backend (`backend=path`, repeatable): "+
		"a column named backend@file, on the Go, cgo and C sides alike")
	fs.Usage = func() { usage(stderr, fs) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.Usage()
			return nil, err
		}
		return nil, usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q: the shoot-out takes only flags", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	cfg := &config{Quick: *quick, Chart: *chart, Touch: *touch, GCLive: gcLive.v}
	var err error
	if cfg.Allocators, err = parseAllocators(*allocators, libraries); err != nil {
		return nil, err
	}
	if cfg.Workloads, err = parseWorkloads(*wls); err != nil {
		return nil, err
	}
	cfg.Runs = *runs
	if cfg.Quick && !set["runs"] {
		cfg.Runs = 3
	}
	if cfg.Runs < 1 || cfg.Runs > 1000 {
		return nil, usagef("-runs %d: give 1 to 1000 runs", *runs)
	}
	if !slices.Contains(formats, *format) {
		return nil, usagef("-format %q: use one of %s", *format, strings.Join(formats, ", "))
	}
	cfg.Format = *format
	if cfg.Chart != "" {
		switch strings.ToLower(filepath.Ext(cfg.Chart)) {
		case ".svg", ".png":
		default:
			return nil, usagef("-chart %q: the file name must end in .svg or .png", cfg.Chart)
		}
	}
	if set["native"] && set["no-native"] && *native == *noNative {
		return nil, usagef("-native=%v and -no-native=%v contradict each other: give one of them", *native, *noNative)
	}
	cfg.Native = *native && !*noNative
	if *threads < 1 || *threads > 1024 {
		return nil, usagef("-threads %d: give 1 to 1024", *threads)
	}
	cfg.Threads = *threads
	if cfg.Quick && !set["gc-live"] {
		cfg.GCLive = 64 << 20
	}
	if cfg.GCLive < 1<<20 {
		return nil, usagef("-gc-live %s: the live set must be at least 1MiB", metric.FormatBytes(float64(cfg.GCLive)))
	}
	if *timeout <= 0 {
		return nil, usagef("-timeout %v: give a positive duration, such as 10m", *timeout)
	}
	cfg.Timeout = *timeout
	cfg.From = *from
	cfg.Params = workload.ParamsFor(cfg.Quick, cfg.Threads, cfg.Touch, cfg.GCLive)
	return cfg, nil
}

func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, `usage: go run ./bench [flags]

The nalloc shoot-out: runs every workload on every allocator that loads,
and the same workloads in C against each native library, and prints which
allocator wins which workload on this machine and what crossing from Go
costs.

Workloads:
`)
	for _, wl := range workload.All() {
		fmt.Fprintf(w, "  %-13s %s\n", wl.Name, wl.Desc)
	}
	fmt.Fprintf(w, "\nFlags:\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// parseAllocators checks a -allocators list and adds the -library
// columns. A name that is not registered is a usage error; a registered
// one that does not load is skipped later, with the reason.
func parseAllocators(s string, libs libraryFlag) ([]contender, error) {
	all := registered()
	var names []string
	for _, c := range all {
		names = append(names, c.Name)
	}
	var out []contender
	if strings.TrimSpace(s) == "all" {
		out = all
	} else {
		list, err := splitList("-allocators", s)
		if err != nil {
			return nil, err
		}
		for _, n := range list {
			i := slices.Index(names, n)
			if i < 0 {
				return nil, usagef("-allocators: unknown allocator %q; known: %s", n, strings.Join(names, ", "))
			}
			out = append(out, all[i])
		}
	}
	for _, l := range libs {
		if slices.ContainsFunc(out, func(c contender) bool { return c.Name == l.Name }) {
			return nil, usagef("-library %s=%s: a column %s is there already: give the library another file name", l.Native.Name, l.Library, l.Name)
		}
		out = append(out, l)
	}
	return out, nil
}

// libraryFlag collects -library backend=path: native libraries of the
// user's (a newer mimalloc build, a jemalloc configured otherwise),
// measured under the backend that knows their functions, as
// mimalloc-bench measures external allocators.
type libraryFlag []contender

func (f *libraryFlag) String() string {
	var parts []string
	for _, c := range *f {
		parts = append(parts, c.Native.Name+"="+c.Library)
	}
	return strings.Join(parts, ",")
}

func (f *libraryFlag) Set(v string) error {
	backend, path, ok := strings.Cut(v, "=")
	backend, path = strings.TrimSpace(backend), strings.TrimSpace(path)
	var known []string
	var spec *native.Spec
	for _, s := range native.Specs() {
		known = append(known, s.Name)
		if s.Name == backend {
			spec = s
		}
	}
	switch {
	case !ok || backend == "" || path == "":
		return fmt.Errorf("%q is not backend=path (such as mimalloc=/opt/mimalloc/lib/libmimalloc.so)", v)
	case spec == nil:
		return fmt.Errorf("%q: %q is not a native backend; known: %s", v, backend, strings.Join(known, ", "))
	}
	if strings.Contains(path, "/") {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%q: %v", v, err)
		}
	}
	*f = append(*f, contender{Name: backend + "@" + filepath.Base(path), Native: spec, Library: path})
	return nil
}

func parseWorkloads(s string) ([]*workload.Workload, error) {
	if strings.TrimSpace(s) == "all" {
		return workload.All(), nil
	}
	names, err := splitList("-workloads", s)
	if err != nil {
		return nil, err
	}
	var ws []*workload.Workload
	for _, n := range names {
		w := workload.ByName(n)
		if w == nil {
			return nil, usagef("-workloads: unknown workload %q; known: %s", n, strings.Join(workload.Names(), ", "))
		}
		ws = append(ws, w)
	}
	return ws, nil
}

// splitList splits a comma-separated list, dropping duplicates.
func splitList(flagName, s string) ([]string, error) {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, usagef("%s %q: empty name in the list", flagName, s)
		}
		if !slices.Contains(out, part) {
			out = append(out, part)
		}
	}
	return out, nil
}

// sizeFlag is a byte count with an optional unit.
type sizeFlag struct{ v int64 }

func (f *sizeFlag) String() string { return metric.FormatBytes(float64(f.v)) }
func (f *sizeFlag) Set(s string) error {
	v, err := metric.ParseSize(s)
	if err != nil {
		return err
	}
	f.v = v
	return nil
}
