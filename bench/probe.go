// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/glibc"
	"github.com/nalloc/nalloc/internal/sysmem"
	"github.com/nalloc/nalloc/jemalloc"
	"github.com/nalloc/nalloc/mimalloc"
	"github.com/nalloc/nalloc/osmem"
)

// The probe is the mmap/brk laboratory: go run ./bench probe. For one
// allocator, in this process, on the main thread (where glibc's main
// arena, the one that grows with brk, serves a C program too), it
// allocates blocks, touches them, frees them and optionally trims, and
// prints what each stage did to the process as the kernel sees it (package
// osmem): the program break, the anonymous mappings, RSS and page faults,
// next to the allocator's own Stats, and where the blocks landed.

func init() { commands["probe"] = runProbe }

const probeUsage = `usage: go run ./bench probe [flags]

Allocates -count blocks of each size in -sizes (one round per size, in
order, in the same process: what one round leaves behind, the next one
sees), touches every page of them, frees them in -order, optionally
trims, and prints at each stage the change of the program break, of the
anonymous mappings, of RSS and of page faults, and the allocator's Stats.

  go run ./bench probe -sizes 1KiB,1MiB -count 16
  go run ./bench probe -sizes 1MiB,1MiB -count 8          # glibc's threshold adapts
  go run ./bench probe -mallopt M_MMAP_THRESHOLD=4MiB -sizes 1MiB
  go run ./bench probe -allocator jemalloc -mallctl arenas.dirty_decay_ms=0 -trim
  go run ./bench probe -allocator jemalloc -malloc-conf narenas:1,dirty_decay_ms:0
  go run ./bench probe -allocator mimalloc -mi-option page_reset=1 -sizes 64KiB
  go run ./bench probe -sizes 64KiB -count 2000 -timeline probe.png

flags:
`

// probeConfig is the probe's settings, from its flags.
type probeConfig struct {
	Allocator  string
	Sizes      []int64
	Count      int
	Order      string
	Trim       bool
	Touch      bool
	Seed       uint64
	Mallopt    []setting // glibc
	Mallctl    []setting // jemalloc
	MiOption   []setting // mimalloc
	MallocConf string    // jemalloc, through the environment
	Timeline   string
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
	fs.BoolVar(&c.Trim, "trim", false, "after freeing, give memory back: glibc malloc_trim(0), jemalloc purge, mimalloc collect, go FreeOSMemory, bump Release")
	fs.BoolVar(&c.Touch, "touch", true, "write one byte in every page of every block (makes it resident)")
	fs.Uint64Var(&c.Seed, "seed", 42, "seed of -order random (`n`)")
	fs.Var(settingsFlag{&c.Mallopt}, "mallopt", "glibc: mallopt(`M_NAME=value`) before the first round; repeatable; sizes take units")
	fs.Var(settingsFlag{&c.Mallctl}, "mallctl", "jemalloc: write a mallctl (`name=value`) before the first round; repeatable")
	fs.Var(settingsFlag{&c.MiOption}, "mi-option", "mimalloc: mi_option_set(`name=value`) before the first round; repeatable")
	fs.StringVar(&c.MallocConf, "malloc-conf", "", "jemalloc: run with MALLOC_CONF=`conf` (read when jemalloc starts: the probe re-executes itself with it)")
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
		return nil, usagef("probe: %v", err)
	}
	if fs.NArg() > 0 {
		return nil, usagef("probe: unexpected argument %q; flags go before nothing else", fs.Arg(0))
	}
	if !slices.Contains(nalloc.Names(), c.Allocator) {
		return nil, usagef("probe: unknown allocator %q; use one of: %s", c.Allocator, strings.Join(nalloc.Names(), ", "))
	}
	for part := range strings.SplitSeq(*sizes, ",") {
		v, err := parseSize(part)
		if err != nil {
			return nil, usagef("probe: -sizes: %v", err)
		}
		if v <= 0 {
			return nil, usagef("probe: -sizes: %q: a block size must be at least 1 byte", part)
		}
		c.Sizes = append(c.Sizes, v)
	}
	if c.Count < 1 {
		return nil, usagef("probe: -count %d: allocate at least one block", c.Count)
	}
	for _, size := range c.Sizes {
		// One round's blocks are live at a time; touched, they are RSS.
		if total := uint64(size) * uint64(c.Count); c.Count > 0 && (total/uint64(c.Count) != uint64(size) || total > sysmem.MaxGoAlloc()) {
			return nil, usagef("probe: -count %d of %s is more than this machine's memory (%s with swap)",
				c.Count, formatBytes(float64(size)), formatBytes(float64(sysmem.MaxGoAlloc())))
		}
	}
	if ext := strings.ToLower(filepath.Ext(c.Timeline)); c.Timeline != "" && ext != ".png" && ext != ".svg" {
		return nil, usagef("probe: -timeline %q: the chart is drawn as .png or .svg; name the file so", c.Timeline)
	}
	if !slices.Contains(probeOrders, c.Order) {
		return nil, usagef("probe: -order %q: use %s", c.Order, strings.Join(probeOrders, ", "))
	}
	knobs := []struct {
		flag, allocator string
		list            []setting
	}{{"-mallopt", "glibc", c.Mallopt}, {"-mallctl", "jemalloc", c.Mallctl}, {"-mi-option", "mimalloc", c.MiOption}}
	for _, k := range knobs {
		if len(k.list) > 0 && c.Allocator != k.allocator {
			return nil, usagef("probe: %s sets %s's knobs; add -allocator %s", k.flag, k.allocator, k.allocator)
		}
	}
	if c.MallocConf != "" && c.Allocator != "jemalloc" {
		return nil, usagef("probe: -malloc-conf configures jemalloc; add -allocator jemalloc")
	}
	for _, s := range c.Mallopt {
		if _, err := glibc.ParseParam(s.name); err != nil {
			return nil, usagef("probe: -mallopt %s: %v", s.name, err)
		}
		if _, err := parseSignedSize(s.value); err != nil {
			return nil, usagef("probe: -mallopt %s=%s: %v", s.name, s.value, err)
		}
	}
	for _, s := range c.MiOption {
		if _, err := mimalloc.ParseOption(s.name); err != nil {
			return nil, usagef("probe: -mi-option %s: %v", s.name, err)
		}
		if _, err := parseSignedSize(s.value); err != nil {
			return nil, usagef("probe: -mi-option %s=%s: %v", s.name, s.value, err)
		}
	}
	return c, nil
}

// parseSignedSize is parseSize for knob values, which may be negative
// (M_TRIM_THRESHOLD=-1, dirty_decay_ms=-1).
func parseSignedSize(s string) (int64, error) {
	if rest, ok := strings.CutPrefix(strings.TrimSpace(s), "-"); ok {
		v, err := parseSize(rest)
		return -v, err
	}
	return parseSize(s)
}

// runProbe is the probe subcommand.
func runProbe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseProbeFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, err)
		fmt.Fprintln(stderr, "go run ./bench probe -h lists the flags")
		return 2
	}
	if c.MallocConf != "" && os.Getenv("MALLOC_CONF") != c.MallocConf {
		// jemalloc read MALLOC_CONF when it started (setupProcess loads
		// it); start again with the new one. The check above ends the loop.
		env := append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
			return strings.HasPrefix(kv, "MALLOC_CONF=")
		}), "MALLOC_CONF="+c.MallocConf)
		err := syscall.Exec("/proc/self/exe", os.Args, env)
		fmt.Fprintf(stderr, "probe: re-executing with MALLOC_CONF: %v\n", err)
		return 1
	}
	if err := probe(ctx, c, stdout); err != nil {
		fmt.Fprintln(stderr, "probe:", err)
		return 1
	}
	return 0
}

// probe opens the allocator, applies the knobs and runs the rounds.
func probe(ctx context.Context, c *probeConfig, w io.Writer) error {
	a, err := nalloc.Open(c.Allocator)
	if err != nil {
		return err
	}
	if err := applyKnobs(a, c); err != nil {
		return err
	}
	var tl *timeline
	if c.Timeline != "" {
		tl = startTimeline()
	}
	fmt.Fprintf(w, "probe: %s (%s), %d block(s) per round, freed %s%s\n", c.Allocator, describeAllocator(a),
		c.Count, c.Order, map[bool]string{true: ", then trimmed", false: ""}[c.Trim])
	if e := emulationWarning(emulatedMechanisms); e != "" {
		fmt.Fprintln(w, e)
	}
	if c.MallocConf != "" {
		fmt.Fprintf(w, "MALLOC_CONF=%s\n", c.MallocConf)
	}
	for _, k := range append(append(slices.Clone(c.Mallopt), c.Mallctl...), c.MiOption...) {
		fmt.Fprintf(w, "set %s=%s\n", k.name, k.value)
	}
	rng := rand.New(rand.NewPCG(c.Seed, 0))
	// Run on the main thread (see child.go: init locks the main goroutine
	// to it, and main runs the command on it), as a C program would.
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
	if l, ok := a.(interface{ Library() string }); ok {
		parts = append(parts, l.Library())
	}
	if v, ok := a.(interface{ Version() string }); ok && v.Version() != "" {
		parts = append(parts, v.Version())
	}
	return strings.Join(parts, ", ")
}

// applyKnobs sets the -mallopt, -mallctl and -mi-option settings.
func applyKnobs(a nalloc.Allocator, c *probeConfig) error {
	for _, s := range c.Mallopt {
		g, ok := a.(*glibc.Allocator)
		if !ok {
			return fmt.Errorf("-mallopt needs the glibc allocator, not %T", a)
		}
		p, _ := glibc.ParseParam(s.name)
		v, _ := parseSignedSize(s.value)
		if err := g.Mallopt(p, int(v)); err != nil {
			return err
		}
	}
	for _, s := range c.Mallctl {
		j, ok := a.(*jemalloc.Allocator)
		if !ok {
			return fmt.Errorf("-mallctl needs the jemalloc allocator, not %T", a)
		}
		if err := setMallctl(j, s.name, s.value); err != nil {
			return err
		}
	}
	for _, s := range c.MiOption {
		m, ok := a.(*mimalloc.Allocator)
		if !ok {
			return fmt.Errorf("-mi-option needs the mimalloc allocator, not %T", a)
		}
		o, _ := mimalloc.ParseOption(s.name)
		v, _ := parseSignedSize(s.value)
		if err := m.SetOption(o, v); err != nil {
			return err
		}
	}
	return nil
}

// setMallctl writes a mallctl from its text: true and false as a bool, a
// number (units allowed) as whichever integer width jemalloc says the
// mallctl has, anything else as a string. jemalloc checks the width of
// what it is given, so the first width that fits is the right one.
func setMallctl(a *jemalloc.Allocator, name, value string) error {
	if b, err := strconv.ParseBool(value); err == nil && !isNumber(value) {
		return jemalloc.SetMallctl(a, name, b)
	}
	v, err := parseSignedSize(value)
	if err != nil {
		return jemalloc.SetMallctl(a, name, value)
	}
	err = jemalloc.SetMallctl(a, name, v) // 8 bytes: size_t, ssize_t, uint64_t
	if errors.Is(err, jemalloc.ErrMallctlValue) && v >= 0 && v <= 1<<32-1 {
		if err4 := jemalloc.SetMallctl(a, name, uint32(v)); err4 == nil {
			return nil
		}
	}
	return err
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
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
	if sr, ok := a.(nalloc.StatsReporter); ok {
		if st, err := sr.Stats(); err == nil {
			s.stats, s.has = st, true
		}
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
		what, err := release(a, c.Allocator)
		if err != nil {
			return err
		}
		if err := mark("trimmed"); err != nil {
			return err
		}
		stages[len(stages)-1].name += " (" + what + ")"
	}
	fmt.Fprintf(w, "\nround %d: %d blocks of %s; they landed in %s\n", round, c.Count, formatBytes(float64(size)), where)
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

// release gives freed memory back to the OS the allocator's way, and says
// which way.
func release(a nalloc.Allocator, name string) (string, error) {
	switch x := a.(type) {
	case *glibc.Allocator:
		released, err := x.Trim(0)
		return fmt.Sprintf("malloc_trim(0) = %v", released), err
	case *jemalloc.Allocator:
		return "arena.<all>.purge", x.Purge()
	case *mimalloc.Allocator:
		return "mi_collect(true)", x.Purge()
	case interface{ Release() }:
		x.Release()
		return "Release", nil
	}
	if name == "go" {
		debug.FreeOSMemory()
		return "debug.FreeOSMemory", nil
	}
	return "", fmt.Errorf("-trim: %T has no way to give memory back", a)
}

// writeStages prints a round's stages: the figures at each stage and
// their change from the stage before.
func writeStages(w io.Writer, stages []stage) {
	grid := [][]string{{"stage", "break", "Δbreak", "anon maps", "Δ", "anon mapped", "Δ", "RSS", "ΔRSS", "Δminor faults", "stats"}}
	for i, s := range stages {
		row := []string{s.name, fmt.Sprintf("%#x", s.os.Break), "", strconv.Itoa(s.os.AnonMappings), "",
			formatBytes(float64(s.os.AnonMapped)), "", formatBytes(float64(s.os.RSS)), "", "", statsText(s)}
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
	writeGrid(w, grid, 1)
}

func signedBytes(v int64) string {
	switch {
	case v > 0:
		return "+" + formatBytes(float64(v))
	case v < 0:
		return "-" + formatBytes(float64(-v))
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
			parts = append(parts, f.name+" "+formatBytes(float64(f.v)))
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, ", ")
}
