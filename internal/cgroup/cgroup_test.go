// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package cgroup_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nalloc/nalloc/internal/cgroup"
	"github.com/nalloc/nalloc/internal/cgroup/cgrouptest"
)

// fixture builds a directory laid out like / for FindAt: files maps a
// path under it to its content; a path ending in "/" is a directory.
func fixture(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// The mountinfo lines of the layouts below, as Linux writes them.
const (
	mountV1Memory  = "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	mountV1CPU     = "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	mountV2Unified = "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
	mountV2        = "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n"
	mountProc      = "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
	noLimitV1      = "9223372036854771712\n"
)

func TestCgroupFindAt(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  cgroup.Memory // Dir relative to the fixture
		ok    bool
	}{
		{"v1", map[string]string{
			"proc/self/cgroup":    "4:memory:/svc/a\n1:cpu:/\n0::/\n",
			"proc/self/mountinfo": mountProc + mountV1CPU + mountV1Memory + mountV2Unified,
			"sys/fs/cgroup/memory/svc/a/memory.limit_in_bytes": "536870912\n",
			"sys/fs/cgroup/memory/svc/a/memory.stat":           "cache 0\nhierarchical_memory_limit 536870912\n",
		}, cgroup.Memory{Version: 1, Dir: "sys/fs/cgroup/memory/svc/a", Limit: 512 << 20}, true},
		{"v1-parent-lower", map[string]string{
			"proc/self/cgroup":    "4:memory:/svc/a\n",
			"proc/self/mountinfo": mountV1Memory,
			"sys/fs/cgroup/memory/svc/a/memory.limit_in_bytes": noLimitV1,
			"sys/fs/cgroup/memory/svc/a/memory.stat":           "hierarchical_memory_limit 268435456\n",
		}, cgroup.Memory{Version: 1, Dir: "sys/fs/cgroup/memory/svc/a", Limit: 256 << 20}, true},
		{"v1-no-limit", map[string]string{
			"proc/self/cgroup":                           "4:memory:/\n",
			"proc/self/mountinfo":                        mountV1Memory,
			"sys/fs/cgroup/memory/memory.limit_in_bytes": noLimitV1,
		}, cgroup.Memory{Version: 1, Dir: "sys/fs/cgroup/memory"}, true},
		{"v1-combined-controllers", map[string]string{
			"proc/self/cgroup":                   "5:memory,hugetlb:/x\n",
			"proc/self/mountinfo":                "35 31 0:32 / /cg/mem\\040hug rw - cgroup cgroup rw,memory,hugetlb\n",
			"cg/mem hug/x/memory.limit_in_bytes": "1048576\n",
		}, cgroup.Memory{Version: 1, Dir: "cg/mem hug/x", Limit: 1 << 20}, true},
		{"v1-container-mount", map[string]string{
			// Docker without a cgroup namespace: the container's group
			// is mounted as the hierarchy's root.
			"proc/self/cgroup":                           "4:memory:/docker/abc\n",
			"proc/self/mountinfo":                        "35 31 0:32 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes": "2147483648\n",
		}, cgroup.Memory{Version: 1, Dir: "sys/fs/cgroup/memory", Limit: 2 << 30}, true},
		{"v2", map[string]string{
			"proc/self/cgroup":    "0::/system.slice/svc.service\n",
			"proc/self/mountinfo": mountProc + mountV2,
			"sys/fs/cgroup/system.slice/svc.service/memory.max": "1073741824\n",
			"sys/fs/cgroup/system.slice/memory.max":             "max\n",
		}, cgroup.Memory{Version: 2, Dir: "sys/fs/cgroup/system.slice/svc.service", Limit: 1 << 30}, true},
		{"v2-ancestor-lower", map[string]string{
			"proc/self/cgroup":                          "0::/kubepods/pod1/c1\n",
			"proc/self/mountinfo":                       mountV2,
			"sys/fs/cgroup/kubepods/pod1/c1/memory.max": "max\n",
			"sys/fs/cgroup/kubepods/pod1/memory.max":    "314572800\n",
			"sys/fs/cgroup/kubepods/memory.max":         "1073741824\n",
		}, cgroup.Memory{Version: 2, Dir: "sys/fs/cgroup/kubepods/pod1/c1", Limit: 300 << 20}, true},
		{"v2-namespace", map[string]string{
			// Inside a cgroup namespace the group reads as "/".
			"proc/self/cgroup":                   "0::/\n",
			"proc/self/mountinfo":                "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
			"sys/fs/cgroup/memory.max":           "805306368\n",
			"sys/fs/cgroup/cgroup.controllers":   "cpu memory\n",
			"sys/fs/cgroup/unrelated/memory.max": "1\n",
		}, cgroup.Memory{Version: 2, Dir: "sys/fs/cgroup", Limit: 768 << 20}, true},
		{"v2-no-limit", map[string]string{
			"proc/self/cgroup":                    "0::/user.slice\n",
			"proc/self/mountinfo":                 mountV2,
			"sys/fs/cgroup/user.slice/memory.max": "max\n",
		}, cgroup.Memory{Version: 2, Dir: "sys/fs/cgroup/user.slice"}, true},
		{"hybrid-v1-wins", map[string]string{
			// systemd's hybrid layout: memory on v1, v2 mounted without
			// controllers.
			"proc/self/cgroup":                             "4:memory:/a\n0::/a\n",
			"proc/self/mountinfo":                          mountV1Memory + mountV2Unified,
			"sys/fs/cgroup/memory/a/memory.limit_in_bytes": "4194304\n",
		}, cgroup.Memory{Version: 1, Dir: "sys/fs/cgroup/memory/a", Limit: 4 << 20}, true},
		{"no-memory-controller", map[string]string{
			"proc/self/cgroup":    "1:cpu:/\n",
			"proc/self/mountinfo": mountV1CPU,
		}, cgroup.Memory{}, false},
		{"not-mounted", map[string]string{
			"proc/self/cgroup":    "4:memory:/a\n",
			"proc/self/mountinfo": mountProc,
		}, cgroup.Memory{}, false},
		{"no-proc", map[string]string{}, cgroup.Memory{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := fixture(t, tc.files)
			m, ok, err := cgroup.FindAt(root)
			if err != nil {
				t.Fatalf("FindAt: %v", err)
			}
			if tc.ok {
				tc.want.Dir = filepath.Join(root, tc.want.Dir)
			}
			if ok != tc.ok || m != tc.want {
				t.Errorf("FindAt = %+v, %v; want %+v, %v", m, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestCgroupFindAtUnreadable(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"v1-garbage", map[string]string{
			"proc/self/cgroup":                             "4:memory:/a\n",
			"proc/self/mountinfo":                          mountV1Memory,
			"sys/fs/cgroup/memory/a/memory.limit_in_bytes": "lots\n",
		}, `holds "lots"`},
		{"v1-missing", map[string]string{
			"proc/self/cgroup":      "4:memory:/a\n",
			"proc/self/mountinfo":   mountV1Memory,
			"sys/fs/cgroup/memory/": "",
		}, "memory.limit_in_bytes: no such file"},
		{"v2-directory", map[string]string{
			"proc/self/cgroup":            "0::/a\n",
			"proc/self/mountinfo":         mountV2,
			"sys/fs/cgroup/a/memory.max/": "",
		}, "is a directory"},
		{"v2-garbage", map[string]string{
			"proc/self/cgroup":           "0::/a\n",
			"proc/self/mountinfo":        mountV2,
			"sys/fs/cgroup/a/memory.max": "-1\n",
		}, `holds "-1"`},
		{"no-mountinfo", map[string]string{
			"proc/self/cgroup": "0::/a\n",
		}, "mountinfo: no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ok, err := cgroup.FindAt(fixture(t, tc.files))
			if !errors.Is(err, cgroup.ErrUnreadable) || !strings.Contains(err.Error(), tc.want) || ok {
				t.Fatalf("FindAt: ok %v, error %v; want ErrUnreadable saying %q", ok, err, tc.want)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "cgroup: ") {
				t.Errorf("error %q: want one line prefixed \"cgroup: \"", msg)
			}
		})
	}
}

// TestCgroupFindInARealGroup runs a child process in a v1 memory group with a
// 96 MiB limit and checks that Find, in the child, reads it.
func TestCgroupFindInARealGroup(t *testing.T) {
	if os.Getenv("NALLOC_CGROUP_CHILD") != "" {
		m, ok, err := cgroup.Find()
		fmt.Printf("limit=%d ok=%v version=%d err=%v\n", m.Limit, ok, m.Version, err)
		return
	}
	g := cgrouptest.NewGroup(t, 96<<20)
	cmd := cgrouptest.Command(context.Background(), g, os.Args[0], "-test.run=^TestCgroupFindInARealGroup$")
	cmd.Env = append(os.Environ(), "NALLOC_CGROUP_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	want := "limit=" + strconv.Itoa(96<<20) + " ok=true version=1 err=<nil>"
	if !strings.Contains(string(out), want) {
		t.Errorf("child in %s reported:\n%s\nwant %q", g.Dir, out, want)
	}
	u, err := g.Usage()
	if err != nil {
		t.Fatal(err)
	}
	if u.Limit != 96<<20 || u.Peak == 0 || u.OOMKills != 0 {
		t.Errorf("group's usage %+v: want the 96 MiB limit, a peak above 0, no OOM kill", u)
	}
}

// TestCgroupCountsOOMKills: a child that writes more than its group's
// limit is killed by the kernel, and Usage says so.
func TestCgroupCountsOOMKills(t *testing.T) {
	if os.Getenv("NALLOC_CGROUP_CHILD") != "" {
		var keep [][]byte
		for range 64 { // 64 MiB, written
			b := make([]byte, 1<<20)
			for i := range b {
				b[i] = 1
			}
			keep = append(keep, b)
		}
		fmt.Println("survived", len(keep))
		return
	}
	g := cgrouptest.NewGroup(t, 32<<20)
	cmd := cgrouptest.Command(context.Background(), g, os.Args[0], "-test.run=^TestCgroupCountsOOMKills$")
	cmd.Env = append(os.Environ(), "NALLOC_CGROUP_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil || strings.Contains(string(out), "survived") {
		t.Fatalf("a child that writes 64 MiB under a 32 MiB limit survived: %v\n%s", err, out)
	}
	u, err := g.Usage()
	if err != nil {
		t.Fatal(err)
	}
	// The kernel charges in batches: the peak may pass the limit by a
	// few pages.
	if u.OOMKills == 0 || u.Failcnt == 0 || u.Peak < 24<<20 || u.Peak > 33<<20 {
		t.Errorf("group's usage %+v after the child was killed (%v): want an OOM kill, a failcnt, a peak at the limit", u, cmd.ProcessState)
	}
}
