// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/internal/opened"
)

// TestGCPacerCountsSmallSets: the default count is within 10% of the
// allocator's own figure (Resident or Mapped, as GCPacerAllocators
// counts it) for off-heap sets from 16 MiB up, on every backend with
// Stats, in a process whose Go runtime holds 32 MiB it never touched (a
// buffer made and never written, as a service's pools are): the kernel's
// count alone, anonymous resident memory less the runtime's, reads that
// much low. Each backend runs in a child process of its own;
// NALLOC_COUNT_SIZES (MiB, comma-separated; "16,64" by default) sets the
// sizes, and the figures are logged.
func TestGCPacerCountsSmallSets(t *testing.T) {
	if impl := os.Getenv("NALLOC_COUNT_IMPL"); impl != "" && os.Getenv("NALLOC_PACER_CHILD") == t.Name() {
		countChild(t, impl)
		return
	}
	for _, impl := range []string{"glibc", "jemalloc", "mimalloc", "tcmalloc"} {
		t.Run(impl, func(t *testing.T) {
			cmd := childCommand(t.Name()[:strings.IndexByte(t.Name(), '/')], "NALLOC_COUNT_IMPL="+impl,
				"NALLOC_COUNT_SIZES="+cmpOr(os.Getenv("NALLOC_COUNT_SIZES"), "16,64"))
			out, err := cmd.CombinedOutput()
			for line := range strings.Lines(string(out)) {
				if strings.Contains(line, "count:") {
					t.Log(strings.TrimSpace(line))
				}
			}
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
		})
	}
}

func countChild(t *testing.T, impl string) {
	a, err := nalloc.Open(impl)
	if err != nil {
		t.Fatal(err)
	}
	untouched := make([]byte, 32*MiB) // held by the runtime, never written
	p, err := nalloc.NewIdlePacer()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Restore()
	total := 0
	var blocks []unsafe.Pointer
	l := nalloc.Layout{Size: 4 * KiB, Align: 16}
	for s := range strings.SplitSeq(os.Getenv("NALLOC_COUNT_SIZES"), ",") {
		mib, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		for ; total < mib*MiB; total += int(l.Size) {
			b, err := a.Allocate(l)
			if err != nil {
				t.Fatal(err)
			}
			clear(unsafe.Slice((*byte)(b), l.Size))
			blocks = append(blocks, b)
		}
		// The reference: every opened allocator's own figure (glibc's
		// holds the C library's own mallocs; TestMain opens jemalloc and
		// TCMalloc to see whether they load).
		var ref uint64
		var opens []string
		for _, o := range opened.Append(nil) {
			if st, err := nalloc.StatsOf(o.(nalloc.Allocator)); err == nil {
				ref += nalloc.FloorBytes(st)
				opens = append(opens, fmt.Sprintf("%T %.1f", o, mb(nalloc.FloorBytes(st))))
			}
		}
		kernel, err := nalloc.CountProcess()
		if err != nil {
			t.Fatal(err)
		}
		x, costFresh, err := p.Recount(true)
		if err != nil {
			t.Fatal(err)
		}
		_, cost, _ := p.Recount(false)
		fmt.Printf("count: %s %4d MiB live: own figures %6.1f MiB (%s), kernel less Go %6.1f MiB, pacer %6.1f MiB (%+.1f%%); a recount %v, %v with Stats\n",
			impl, mib, mb(ref), strings.Join(opens, ", "), mb(kernel), mb(x), 100*(float64(x)-float64(ref))/float64(ref), cost.Round(100*time.Nanosecond), costFresh.Round(100*time.Nanosecond))
		if d := float64(x) - float64(ref); d > 0.1*float64(ref) || -d > 0.1*float64(ref) {
			t.Errorf("%s, %d MiB live: the pacer counts %.1f MiB, the allocator's own figure is %.1f MiB: more than 10%% apart",
				impl, mib, mb(x), mb(ref))
		}
	}
	for _, b := range blocks {
		a.Deallocate(b, l)
	}
	runtime.KeepAlive(untouched)
}

func mb(x uint64) float64 { return float64(x) / MiB }

// childCommand runs this test binary's test named run again with env
// added and NALLOC_PACER_CHILD set to run.
func childCommand(run string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^"+run+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), append(env, "NALLOC_PACER_CHILD="+run)...)
	return cmd
}
