// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package probe is the mmap/brk laboratory: go run ./bench probe. For one
// allocator, in this process, on the main thread (where glibc's main
// arena, the one that grows with brk, serves a C program too), it
// allocates blocks, touches them, frees them and optionally trims, and
// prints what each stage did to the process as the kernel sees it (package
// osmem): the program break, the anonymous mappings, RSS and page faults,
// next to the allocator's own Stats, and where the blocks landed.
package probe

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/bench/internal/metric"
	"github.com/nalloc/nalloc/bench/internal/report"
	"github.com/nalloc/nalloc/internal/native"
	"github.com/nalloc/nalloc/internal/sysmem"
	"github.com/nalloc/nalloc/osmem"
)

// The probe runs on the main thread: the main goroutine stays on the main
// OS thread (locked in init, the only way to be sure of it), and main
// runs the command there.
func init() { runtime.LockOSThread() }

const probeUsage = `usage: go run ./bench probe [flags]

Allocates -count blocks of each size in -sizes (one round per size, in
order, in the same process: what one round leaves behind, the next one
sees), touches every page of them, frees them in -order, optionally
trims, and prints at each stage the change of the program break, of the
anonymous mappings, of RSS and of page faults, and the allocator's Stats.

  go run ./bench probe -sizes 1KiB,1MiB -count 16
  go run ./bench probe -sizes 1MiB,1MiB -count 8          # glibc's threshold adapts
  go run ./bench probe -set M_MMAP_THRESHOLD=4MiB -sizes 1MiB
  go run ./bench probe -allocator jemalloc -set arenas.dirty_decay_ms=0 -trim
  go run ./bench probe -allocator jemalloc -env MALLOC_CONF=narenas:1,dirty_decay_ms:0
  go run ./bench probe -allocator mimalloc -set purge_delay=0 -sizes 64KiB
  go run ./bench probe -sizes 64KiB -count 2000 -timeline probe.png

-set hands name=value to the allocator's Tune (nalloc.Tuner), which
parses and checks it (glibc's mallopt parameters, jemalloc's writable
mallctls, ...: each backend's Tune doc lists what it takes). -env sets a variable that the library reads when it starts
(MALLOC_CONF, MIMALLOC_*, TCMALLOC_*, GLIBC_TUNABLES): the probe starts
itself again with it.

flags:
`

// probeConfig is the probe's settings, from its flags.
type probeConfig struct {
	Allocator string
	Sizes     []int64
	Count     int
	Order     string
	Trim      bool
	Touch     bool
	Seed      uint64
	Set       []setting // through the allocator's Tune
	Env       []setting // in the environment the probe runs in
	Timeline  string
}

// setting is one name=value knob from the command line.
type setting struct{ name, value string }

// settingsFlag collects repeated name=value flags.
type settingsFlag struct{ list *[]setting }

func (f settingsFlag) String() string {
	if f.list == nil {
		return ""
	}
	var parts []string
	for _, s := range *f.list {
		parts = append(parts, s.name+"="+s.value)
	}
	return strings.Join(parts, ",")
}

func (f settingsFlag) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" || value == "" {
		return fmt.Errorf("%q is not name=value", v)
	}
	*f.list = append(*f.list, setting{strings.TrimSpace(name), strings.TrimSpace(value)})
	return nil
}

var probeOrders = []string{"fifo", "lifo", "random"}

// parseProbeFlags parses and checks the probe's command line: every
// mistake is a *usageError naming it and the fix, found before anything
// is allocated.
func parseProbeFlags(args []string, stderr io.Writer) (*probeConfig, error) {
	c := &probeConfig{}
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.Allocator, "allocator", "glibc", "the allocator to probe (`name`)")
	sizes := fs.String("sizes", "1KiB,1MiB", "block `sizes`, one round each, with units: 64, 64KiB, 1MiB, 1.5GiB")
	fs.IntVar(&c.Count, "count", 16, "blocks per round (`n`)")
	fs.StringVar(&c.Order, "order", "fifo", "free `order`: fifo (first allocated, first freed), lifo or random")
	fs.BoolVar(&c.Trim, "trim", false, "after freeing, give memory back to the OS (the allocator's Purge: malloc_trim(0), an arena purge, mi_collect, FreeOSMemory)")
	fs.BoolVar(&c.Touch, "touch", true, "write one byte in every page of every block (makes it resident)")
	fs.Uint64Var(&c.Seed, "seed", 42, "seed of -order random (`n`)")
	fs.Var(settingsFlag{&c.Set}, "set", "tune the allocator before the first round (`name=value`, its Tune parses it); repeatable")
	fs.Var(settingsFlag{&c.Env}, "env", "run with the environment variable `NAME=value`, read when the library starts (the probe re-executes itself); repeatable")
	fs.StringVar(&c.Timeline, "timeline", "", "sample RSS and the break every millisecond and draw them to `file` (.png or .svg)")
	fs.Usage = func() {
		fmt.Fprint(stderr, probeUsage)
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.Usage()
			return nil, err
		}
		return nil, fmt.Errorf("probe: %v", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("probe: unexpected argument %q; flags go before nothing else", fs.Arg(0))
	}
	if !slices.Contains(nalloc.Names(), c.Allocator) {
		return nil, fmt.Errorf("probe: unknown allocator %q; use one of: %s", c.Allocator, strings.Join(nalloc.Names(), ", "))
	}
	// The probe's process is there to show what this one allocator does
	// to a process: on macOS, where jemalloc, mimalloc and TCMalloc make
	// themselves the default malloc zone as they load, that is part of it
	// (elsewhere this does nothing).
	native.AllowDefaultZone(c.Allocator)
	for part := range strings.SplitSeq(*sizes, ",") {
		v, err := metric.ParseSize(part)
		if err != nil {
			return nil, fmt.Errorf("probe: -sizes: %v", err)
		}
		if v <= 0 {
			return nil, fmt.Errorf("probe: -sizes: %q: a block size must be at least 1 byte", part)
		}
		c.Sizes = append(c.Sizes, v)
	}
	if c.Count < 1 {
		return nil, fmt.Errorf("probe: -count %d: allocate at least one block", c.Count)
	}
	for _, size := range c.Sizes {
		// One round's blocks are live at a time; touched, they are RSS.
		if total := uint64(size) * uint64(c.Count); c.Count > 0 && (total/uint64(c.Count) != uint64(size) || total > sysmem.MaxGoAlloc()) {
			return nil, fmt.Errorf("probe: -count %d of %s is more than this machine's memory (%s with swap)",
				c.Count, metric.FormatBytes(float64(size)), metric.FormatBytes(float64(sysmem.MaxGoAlloc())))
		}
	}
	if ext := strings.ToLower(filepath.Ext(c.Timeline)); c.Timeline != "" && ext != ".png" && ext != ".svg" {
		return nil, fmt.Errorf("probe: -timeline %q: the chart is drawn as .png or .svg; name the file so", c.Timeline)
	}
	if !slices.Contains(probeOrders, c.Order) {
		return nil, fmt.Errorf("probe: -order %q: use %s", c.Order, strings.Join(probeOrders, ", "))
	}
	if len(c.Set) > 0 || c.Trim {
		// Open it here, before anything is allocated, to check that it
		// can take what was asked: a name that cannot is a usage error.
		a, err := nalloc.Open(c.Allocator)
		if err == nil {
			if _, ok := nalloc.As[nalloc.Tuner](a); len(c.Set) > 0 && !ok {
				return nil, fmt.Errorf("probe: -set: %s (%T) has no settings to tune (it is not a nalloc.Tuner)", c.Allocator, a)
			}
			if _, ok := nalloc.As[nalloc.Purger](a); c.Trim && !ok {
				return nil, fmt.Errorf("probe: -trim: %s (%T) cannot give memory back on demand (it is not a nalloc.Purger)", c.Allocator, a)
			}
		}
	}
	for _, e := range c.Env {
		if strings.ContainsAny(e.name, "= \t") {
			return nil, fmt.Errorf("probe: -env %s=%s: not a variable name", e.name, e.value)
		}
	}
	return c, nil
}

// Run is the probe subcommand: go run ./bench probe with args. It
// returns the exit status.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseProbeFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, err)
		fmt.Fprintln(stderr, "go run ./bench probe -h lists the flags")
		return 2
	}
	if env, ok := probeEnviron(os.Environ(), c.Env); !ok {
		// The libraries read their variables when they start (and
		// setupProcess has started jemalloc): start again with them. The
		// check above ends the loop.
		err := syscall.Exec("/proc/self/exe", os.Args, env)
		fmt.Fprintf(stderr, "probe: re-executing with -env: %v\n", err)
		return 1
	}
	if err := probe(ctx, c, stdout); err != nil {
		fmt.Fprintln(stderr, "probe:", err)
		return 1
	}
	return 0
}

// probeEnviron returns env with the -env settings, and whether env has
// them all already.
func probeEnviron(env []string, set []setting) ([]string, bool) {
	ok := true
	for _, e := range set {
		kv := e.name + "=" + e.value
		if slices.Contains(env, kv) {
			continue
		}
		ok = false
		env = append(slices.DeleteFunc(env, func(s string) bool { return strings.HasPrefix(s, e.name+"=") }), kv)
	}
	return env, ok
}

// probe opens the allocator, applies the settings and runs the rounds.
func probe(ctx context.Context, c *probeConfig, w io.Writer) error {
	a, err := nalloc.Open(c.Allocator)
	if err != nil {
		return err
	}
	for _, k := range c.Set {
		// parseProbeFlags checked that a is a Tuner.
		if err := nalloc.Tune(a, k.name, k.value); err != nil {
			return fmt.Errorf("-set %s=%s: %w", k.name, k.value, err)
		}
	}
	var tl *timeline
	if c.Timeline != "" {
		tl = startTimeline()
	}
	fmt.Fprintf(w, "probe: %s (%s), %d block(s) per round, freed %s%s\n", c.Allocator, describeAllocator(a),
		c.Count, c.Order, map[bool]string{true: ", then trimmed", false: ""}[c.Trim])
	if e := report.EmulationWarning(report.EmulatedMechanisms); e != "" {
		fmt.Fprintln(w, e)
	}
	for _, k := range c.Env {
		fmt.Fprintf(w, "env %s=%s\n", k.name, k.value)
	}
	for _, k := range c.Set {
		fmt.Fprintf(w, "set %s=%s\n", k.name, k.value)
	}
	rng := rand.New(rand.NewPCG(c.Seed, 0))
	// Run on the main thread (init locks the main goroutine to it, and
	// main runs the command on it), as a C program would.
	for i, size := range c.Sizes {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := probeRound(w, a, c, i+1, uintptr(size), rng, tl); err != nil {
			return err
		}
	}
	if tl != nil {
		samples := tl.stop()
		if err := drawTimeline(samples, tl.marks, c, c.Timeline); err != nil {
			return fmt.Errorf("-timeline: %w", err)
		}
		fmt.Fprintf(w, "\ntimeline: %d samples over %.0f ms in %s\n", len(samples), samples[len(samples)-1].ms, c.Timeline)
	}
	return nil
}

func describeAllocator(a nalloc.Allocator) string {
	parts := []string{fmt.Sprintf("%T", a)}
	if n, ok := nalloc.As[nalloc.Native](a); ok {
		parts = append(parts, n.Library())
		if v := n.Version(); v != "" {
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, ", ")
}

// stage is one line of a round's table.
type stage struct {
	name  string
	os    osmem.Snapshot
	stats nalloc.Stats
	has   bool // stats are there
}

func snapshot(name string, a nalloc.Allocator) (stage, error) {
	s := stage{name: name}
	var err error
	if s.os, err = osmem.Read(); err != nil {
		return s, err
	}
	if st, err := nalloc.StatsOf(a); err == nil {
		s.stats, s.has = st, true
	}
	return s, nil
}

// probeRound allocates, touches, frees and trims one round's blocks.
func probeRound(w io.Writer, a nalloc.Allocator, c *probeConfig, round int, size uintptr, rng *rand.Rand, tl *timeline) error {
	l := nalloc.Layout{Size: size, Align: 16}
	var stages []stage
	mark := func(name string) error {
		s, err := snapshot(name, a)
		if err != nil {
			return err
		}
		stages = append(stages, s)
		tl.mark(fmt.Sprintf("r%d %s", round, name))
		return nil
	}
	if err := mark("start"); err != nil {
		return err
	}
	blocks := make([]unsafe.Pointer, 0, c.Count)
	for range c.Count {
		p, err := a.Allocate(l)
		if err != nil {
			for _, p := range blocks {
				a.Deallocate(p, l)
			}
			return fmt.Errorf("round %d: %w", round, err)
		}
		blocks = append(blocks, p)
	}
	if err := mark("allocated"); err != nil {
		return err
	}
	where, err := locate(blocks)
	if err != nil {
		return err
	}
	if c.Touch {
		page := uintptr(os.Getpagesize())
		for _, p := range blocks {
			for off := uintptr(0); off < size; off += page {
				*(*byte)(unsafe.Add(p, off)) = 1
			}
		}
		if err := mark("touched"); err != nil {
			return err
		}
	}
	switch c.Order {
	case "lifo":
		slices.Reverse(blocks)
	case "random":
		rng.Shuffle(len(blocks), func(i, j int) { blocks[i], blocks[j] = blocks[j], blocks[i] })
	}
	for _, p := range blocks {
		a.Deallocate(p, l)
	}
	if err := mark("freed"); err != nil {
		return err
	}
	if c.Trim {
		// parseProbeFlags checked that a is a Purger.
		if err := nalloc.Purge(a); err != nil {
			return fmt.Errorf("-trim: %w", err)
		}
		if err := mark("trimmed"); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\nround %d: %d blocks of %s; they landed in %s\n", round, c.Count, metric.FormatBytes(float64(size)), where)
	writeStages(w, stages)
	return nil
}

// locate says in which kind of mapping the blocks lie.
func locate(blocks []unsafe.Pointer) (string, error) {
	maps, err := osmem.Mappings()
	if err != nil {
		return "", err
	}
	var heap, anon, other int
	for _, p := range blocks {
		m, ok := osmem.Find(maps, uintptr(p))
		switch {
		case ok && m.Heap():
			heap++
		case ok && m.Anonymous():
			anon++
		default:
			other++ // the Go heap's arenas are named in /proc/self/maps on some kernels
		}
	}
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{heap, "the brk heap"}, {anon, "anonymous mappings"}, {other, "other mappings"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d in %s", p.n, p.what))
		}
	}
	return strings.Join(parts, ", "), nil
}

// writeStages prints a round's stages: the figures at each stage and
// their change from the stage before.
func writeStages(w io.Writer, stages []stage) {
	grid := [][]string{{"stage", "break", "Δbreak", "anon maps", "Δ", "anon mapped", "Δ", "RSS", "ΔRSS", "Δminor faults", "stats"}}
	for i, s := range stages {
		row := []string{s.name, fmt.Sprintf("%#x", s.os.Break), "", strconv.Itoa(s.os.AnonMappings), "",
			metric.FormatBytes(float64(s.os.AnonMapped)), "", metric.FormatBytes(float64(s.os.RSS)), "", "", statsText(s)}
		if i > 0 {
			d := s.os.Sub(stages[i-1].os)
			row[2] = signedBytes(d.Break)
			row[4] = fmt.Sprintf("%+d", d.AnonMappings)
			row[6] = signedBytes(d.AnonMapped)
			row[8] = signedBytes(d.RSS)
			row[9] = fmt.Sprintf("%+d", d.MinorFaults)
		}
		grid = append(grid, row)
	}
	report.WriteGrid(w, grid, 1)
}

func signedBytes(v int64) string {
	switch {
	case v > 0:
		return "+" + metric.FormatBytes(float64(v))
	case v < 0:
		return "-" + metric.FormatBytes(float64(-v))
	}
	return "0"
}

// statsText is the allocator's non-zero Stats fields.
func statsText(s stage) string {
	if !s.has {
		return "-"
	}
	var parts []string
	for _, f := range []struct {
		name string
		v    uint64
	}{{"allocated", s.stats.Allocated}, {"active", s.stats.Active}, {"resident", s.stats.Resident},
		{"mapped", s.stats.Mapped}, {"retained", s.stats.Retained}, {"metadata", s.stats.Metadata}} {
		if f.v != 0 {
			parts = append(parts, f.name+" "+metric.FormatBytes(float64(f.v)))
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, ", ")
}
