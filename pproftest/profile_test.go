// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package pproftest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/pprof/profile"
	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/nallocpprof"
)

// The known call sites: each is the leaf of the stacks it allocates at.

//go:noinline
func siteSmall(t testing.TB, a nalloc.Allocator, l nalloc.Layout) unsafe.Pointer {
	p, err := a.Allocate(l)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

//go:noinline
func siteLarge(t testing.TB, a nalloc.Allocator, l nalloc.Layout) unsafe.Pointer {
	p, err := a.Allocate(l)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

//go:noinline
func siteGrow(t testing.TB, a nalloc.Allocator, p unsafe.Pointer, old, new nalloc.Layout) unsafe.Pointer {
	q, err := a.Grow(p, old, new)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// parse writes p's profile and parses it with google/pprof, checking
// what every heap profile of Go's has.
func parse(t testing.TB, p *nalloc.Profiled) *profile.Profile {
	t.Helper()
	var buf bytes.Buffer
	if err := p.WriteHeapProfile(&buf); err != nil {
		t.Fatal(err)
	}
	return parseBytes(t, buf.Bytes())
}

func parseBytes(t testing.TB, b []byte) *profile.Profile {
	t.Helper()
	prof, err := profile.ParseData(b)
	if err != nil {
		t.Fatalf("profile.ParseData: %v", err)
	}
	if err := prof.CheckValid(); err != nil {
		t.Fatalf("CheckValid: %v", err)
	}
	var types []string
	for _, st := range prof.SampleType {
		types = append(types, st.Type+"/"+st.Unit)
	}
	if got, want := strings.Join(types, " "), "alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes"; got != want {
		t.Errorf("sample types %q, want %q", got, want)
	}
	if prof.PeriodType == nil || prof.PeriodType.Type != "space" || prof.PeriodType.Unit != "bytes" {
		t.Errorf("period type %v, want space/bytes", prof.PeriodType)
	}
	return prof
}

// byLeaf sums the values of prof's samples by the short name of their
// leaf function, and checks that each sample's "bytes" label divides its
// alloc_space by its alloc_objects, as in Go's heap profiles.
func byLeaf(t testing.TB, prof *profile.Profile) map[string][4]int64 {
	t.Helper()
	m := map[string][4]int64{}
	for _, s := range prof.Sample {
		if len(s.Location) == 0 || len(s.Location[0].Line) == 0 {
			t.Errorf("a sample without a stack: %v", s)
			continue
		}
		name := s.Location[0].Line[0].Function.Name
		name = name[strings.LastIndex(name, ".")+1:]
		if b := s.NumLabel["bytes"]; len(b) != 1 || b[0] <= 0 {
			t.Errorf("%s: bytes label %v", name, b)
		}
		v := m[name]
		for i := range v {
			v[i] += s.Value[i]
		}
		m[name] = v
	}
	return m
}

// TestExact: at rate 1 the parsed figures per function are exactly what
// was allocated and freed there; Grow moves them.
func TestExact(t *testing.T) {
	p := nalloc.NewProfiled(nalloc.NewGoHeap(), nalloc.ProfileRate(1))
	small := nalloc.Layout{Size: 48, Align: 8}
	large := nalloc.Layout{Size: 1 << 20, Align: 4096}
	var smalls []unsafe.Pointer
	for range 100 {
		smalls = append(smalls, siteSmall(t, p, small))
	}
	l1 := siteLarge(t, p, large)
	l2 := siteLarge(t, p, large)
	for _, q := range smalls[:30] {
		p.Deallocate(q, small)
	}
	p.Deallocate(l1, large)
	grown := nalloc.Layout{Size: 3 << 20, Align: 4096}
	l2 = siteGrow(t, p, l2, large, grown)

	prof := parse(t, p)
	if prof.Period != 1 {
		t.Errorf("period %d, want 1", prof.Period)
	}
	got := byLeaf(t, prof)
	want := map[string][4]int64{
		"siteSmall": {100, 4800, 70, 3360},
		"siteLarge": {2, 2 << 20, 0, 0},
		"siteGrow":  {1, 3 << 20, 1, 3 << 20},
	}
	for fn, w := range want {
		if got[fn] != w {
			t.Errorf("%s: %v, want %v", fn, got[fn], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("samples at %v, want only %v", got, want)
	}
	for _, q := range smalls[30:] {
		p.Deallocate(q, small)
	}
	p.Deallocate(l2, grown)
}

// reserved is an Allocator over address space that is reserved and never
// touched (PROT_NONE): it lets TestAccuracy sample hundreds of MiB
// without the memory. Blocks are handed out in order and never reused.
type reserved struct {
	mem  []byte
	next uintptr
}

func (r *reserved) Allocate(l nalloc.Layout) (unsafe.Pointer, error) {
	off := (r.next + l.Align - 1) &^ (l.Align - 1)
	if off+l.Size > uintptr(len(r.mem)) {
		return nil, nalloc.OutOfMemory("reserved", l)
	}
	r.next = off + l.Size
	return unsafe.Pointer(unsafe.SliceData(r.mem[off:])), nil
}

func (r *reserved) Deallocate(unsafe.Pointer, nalloc.Layout) {}

func (r *reserved) Grow(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	return r.Allocate(new) // never read: the memory is not accessible
}

func (r *reserved) Shrink(p unsafe.Pointer, old, new nalloc.Layout) (unsafe.Pointer, error) {
	return p, nil
}

// TestAccuracy: at the default rate, over 640 MiB allocated from two call
// sites, one in blocks of 1 KiB and one in blocks of 1 MiB, the scaled
// figures are within 20% of the truth for both sizes.
//
// Why it does not flake: a site's estimate is the number of its blocks
// sampled times size/p, with p = 1-exp(-size/rate), so its relative
// standard deviation is sqrt((1-p)/(n·p)) for n blocks. In use, 256 MiB
// of 1 KiB blocks (n = 262144, n·p ≈ 512 samples) gives 4.4%; 128 MiB of
// 1 MiB blocks (n = 128, p = 0.865) gives 3.5%. 20% is then 4.5 and 5.7
// standard deviations: together less than one failure in 10^5 runs.
func TestAccuracy(t *testing.T) {
	mem := reserve(t, 1<<30)
	p := nalloc.NewProfiled(&reserved{mem: mem})
	small := nalloc.Layout{Size: 1 << 10, Align: 8}
	large := nalloc.Layout{Size: 1 << 20, Align: 8}
	var smalls []unsafe.Pointer
	for range (384 << 20) / small.Size { // 384 MiB, a third freed below
		smalls = append(smalls, siteSmall(t, p, small))
	}
	for range (128 << 20) / large.Size {
		siteLarge(t, p, large)
	}
	for i, q := range smalls {
		if i%3 == 0 {
			p.Deallocate(q, small)
		}
	}
	freedSmall := int64((len(smalls) + 2) / 3)

	prof := parse(t, p)
	if prof.Period != nalloc.DefaultProfileRate {
		t.Errorf("period %d, want %d", prof.Period, nalloc.DefaultProfileRate)
	}
	got := byLeaf(t, prof)
	truth := map[string][4]int64{
		"siteSmall": {int64(len(smalls)), 384 << 20, int64(len(smalls)) - freedSmall, 384<<20 - freedSmall<<10},
		"siteLarge": {128, 128 << 20, 128, 128 << 20},
	}
	names := []string{"alloc_objects", "alloc_space", "inuse_objects", "inuse_space"}
	for fn, w := range truth {
		for i := range w {
			ratio := float64(got[fn][i]) / float64(w[i])
			t.Logf("%s %s: %d, truth %d (%.3f)", fn, names[i], got[fn][i], w[i], ratio)
			if ratio < 0.8 || ratio > 1.2 {
				t.Errorf("%s %s: %d, more than 20%% off the truth %d", fn, names[i], got[fn][i], w[i])
			}
		}
	}
}

// goTool runs `go tool pprof args...` with its output written where the
// test can see it, and returns its standard output.
func goTool(t *testing.T, args ...string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to run go tool pprof with")
	}
	cmd := exec.Command(goBin, append([]string{"tool", "pprof"}, args...)...)
	cmd.Env = append(os.Environ(), "PPROF_TMPDIR="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go tool pprof %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// TestGoToolPprof: `go tool pprof -top` reads the profile, picks
// inuse_space by default, and -base shows the growth between two.
func TestGoToolPprof(t *testing.T) {
	p := nalloc.NewProfiled(nalloc.NewGoHeap(), nalloc.ProfileRate(1))
	dir := t.TempDir()
	write := func(name string) string {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := p.WriteHeapProfile(f); err != nil {
			t.Fatal(err)
		}
		return path
	}
	large := nalloc.Layout{Size: 1 << 20, Align: 8}
	small := nalloc.Layout{Size: 512 << 10, Align: 8}
	for range 3 {
		siteLarge(t, p, large)
	}
	base := write("base.pb.gz")
	for range 4 {
		siteSmall(t, p, small)
	}
	now := write("now.pb.gz")

	out := goTool(t, "-top", now)
	if !strings.Contains(out, "Type: inuse_space") {
		t.Errorf("go tool pprof -top does not default to inuse_space:\n%s", out)
	}
	for _, want := range []string{"3MB", "2MB", "pproftest.siteLarge", "pproftest.siteSmall"} {
		if !strings.Contains(out, want) {
			t.Errorf("go tool pprof -top: no %q in\n%s", want, out)
		}
	}
	out = goTool(t, "-top", "-sample_index=alloc_objects", now)
	if !strings.Contains(out, "Type: alloc_objects") || !lineHas(out, "pproftest.siteSmall", "4 ") {
		t.Errorf("go tool pprof -top -sample_index=alloc_objects:\n%s", out)
	}
	out = goTool(t, "-top", "-base", base, now)
	if !lineHas(out, "pproftest.siteSmall", "2MB") || strings.Contains(out, "pproftest.siteLarge") {
		t.Errorf("go tool pprof -top -base: want the 2MB of siteSmall alone:\n%s", out)
	}
}

// lineHas reports whether a line of out has both fn and figure.
func lineHas(out, fn, figure string) bool {
	for line := range strings.Lines(out) {
		if strings.Contains(line, fn) && strings.Contains(line, figure) {
			return true
		}
	}
	return false
}

// TestHandlerLoopback: the profile served by nallocpprof from a running
// server on loopback parses, with google/pprof's parser and with
// `go tool pprof http://...`.
func TestHandlerLoopback(t *testing.T) {
	p := nalloc.NewProfiled(nalloc.NewGoHeap(), nalloc.ProfileRate(1))
	l := nalloc.Layout{Size: 5 << 20, Align: 8}
	q := siteLarge(t, p, l)
	defer p.Deallocate(q, l)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(nallocpprof.Path, nallocpprof.Handler(p))
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()
	url := fmt.Sprintf("http://%s%s", ln.Addr(), nallocpprof.Path)

	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	prof, err := profile.Parse(resp.Body)
	if err != nil {
		t.Fatalf("profile.Parse of %s: %v", url, err)
	}
	if got := byLeaf(t, prof)["siteLarge"]; got != [4]int64{1, 5 << 20, 1, 5 << 20} {
		t.Errorf("siteLarge over HTTP: %v, want one block of 5 MiB", got)
	}
	if out := goTool(t, "-top", url); !lineHas(out, "pproftest.siteLarge", "5MB") {
		t.Errorf("go tool pprof -top %s:\n%s", url, out)
	}
}
