// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package cgroup finds the memory limit of the control group the process
// runs in, the limit a container's OOM killer enforces, for the GC
// pacer's GCPacerContainerLimit.
//
// The process's group comes from /proc/self/cgroup, the hierarchy's
// mount from /proc/self/mountinfo: a cgroup v1 hierarchy that carries the
// memory controller (memory.limit_in_bytes), else the v2 unified
// hierarchy (memory.max). A group's effective limit is the lowest on its
// way up to the mount's root: v1 reports it itself
// (hierarchical_memory_limit in memory.stat), v2 is walked. Inside a
// container with its own cgroup namespace, or with the group's directory
// mounted as the hierarchy's root, the group is the mount's root and its
// ancestors are out of sight; their limits are then not seen.
//
// Every path is read under a root directory ("/" for the process itself),
// so that tests can give a directory laid out like /proc and /sys.
package cgroup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrUnreadable is the error for a memory cgroup that the process is in
// but cannot read: /proc/self/cgroup names it, and its files cannot be
// opened or parsed (a hierarchy mounted without read permission, a
// /proc from another process's view, a kernel with an unknown format).
var ErrUnreadable = errors.New("cgroup: cannot read the memory cgroup")

// Memory is the memory cgroup the process is in.
type Memory struct {
	Version int    // 1 or 2
	Dir     string // the group's directory, under the root FindAt was given
	// Limit is the group's effective memory limit in bytes: the lowest of
	// its own and its ancestors' within the mount. 0: none.
	Limit uint64
}

// Find returns the memory cgroup of the calling process. ok is false when
// the process is in none: no /proc/self/cgroup (not Linux), or no mounted
// hierarchy carries the memory controller. A cgroup that is there but
// cannot be read is an error wrapping ErrUnreadable.
func Find() (m Memory, ok bool, err error) { return FindAt("/") }

// FindAt is Find with every path read under root: root/proc/self/cgroup,
// root/proc/self/mountinfo, and the mount points it names under root.
func FindAt(root string) (m Memory, ok bool, err error) {
	groups, err := os.ReadFile(filepath.Join(root, "proc/self/cgroup"))
	if errors.Is(err, os.ErrNotExist) {
		return Memory{}, false, nil
	}
	if err != nil {
		return Memory{}, false, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	v1Path, v2Path, v1, v2 := parseGroups(groups)
	if !v1 && !v2 {
		return Memory{}, false, nil
	}
	mountinfo, err := os.ReadFile(filepath.Join(root, "proc/self/mountinfo"))
	if err != nil {
		return Memory{}, false, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	v1Mount, v2Mount := parseMounts(mountinfo)
	// A v1 hierarchy with the memory controller wins: in the hybrid
	// layout the v2 hierarchy is mounted too, but without the controller.
	if v1 && v1Mount.point != "" {
		dir := v1Mount.dir(root, v1Path)
		m, err := readV1(dir)
		return m, err == nil, err
	}
	if v2 && v2Mount.point != "" {
		m, err := readV2(v2Mount.dir(root, v2Path), filepath.Join(root, v2Mount.point))
		return m, err == nil, err
	}
	return Memory{}, false, nil
}

// parseGroups reads /proc/self/cgroup: "ID:controllers:path" per line;
// v1's memory hierarchy lists "memory" among its controllers, v2's line
// is "0::path".
func parseGroups(data []byte) (v1Path, v2Path string, v1, v2 bool) {
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		id, rest, ok1 := strings.Cut(line, ":")
		ctrls, path, ok2 := strings.Cut(rest, ":")
		if !ok1 || !ok2 {
			continue
		}
		if id == "0" && ctrls == "" {
			v2Path, v2 = path, true
			continue
		}
		for c := range strings.SplitSeq(ctrls, ",") {
			if c == "memory" {
				v1Path, v1 = path, true
			}
		}
	}
	return
}

// mount is a cgroup hierarchy's mount: the group its mount point shows
// (root, "/" unless a group's directory was mounted) and where.
type mount struct{ root, point string }

// dir returns the directory of the group at path (as /proc/self/cgroup
// names it) under this mount, or the mount point if the group is outside
// what it shows (a cgroup namespace, where paths read "/.." or "/").
func (m mount) dir(fsRoot, path string) string {
	rel, err := filepath.Rel(m.root, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		rel = "."
	}
	return filepath.Join(fsRoot, m.point, rel)
}

// parseMounts reads /proc/self/mountinfo for the first v1 mount with the
// memory controller and the first cgroup2 mount. A line is "ID parent
// major:minor root point options [optional...] - fstype source
// superoptions", with spaces in paths escaped as \040.
func parseMounts(data []byte) (v1, v2 mount) {
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		sep := -1
		for i, x := range f {
			if x == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || sep+3 > len(f) {
			continue
		}
		m := mount{root: unescape(f[3]), point: unescape(f[4])}
		switch fstype, super := f[sep+1], f[sep+3]; fstype {
		case "cgroup":
			for o := range strings.SplitSeq(super, ",") {
				if o == "memory" && v1.point == "" {
					v1 = m
				}
			}
		case "cgroup2":
			if v2.point == "" {
				v2 = m
			}
		}
	}
	return
}

// unescape undoes mountinfo's octal escapes (\040 for a space, \011,
// \012, \134).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unlimitedV1 is the smallest figure cgroup v1 reports for "no limit":
// it reports PAGE_COUNTER_MAX pages, 2^63 less a page, and no machine
// has 2^62 bytes.
const unlimitedV1 = 1 << 62

// readV1 reads a v1 group: memory.limit_in_bytes, and the hierarchical
// limit memory.stat reports (the lowest of the group's ancestors').
func readV1(dir string) (Memory, error) {
	m := Memory{Version: 1, Dir: dir}
	limit, err := readUint(filepath.Join(dir, "memory.limit_in_bytes"))
	if err != nil {
		return m, err
	}
	if stat, err := os.ReadFile(filepath.Join(dir, "memory.stat")); err == nil {
		if h, ok := statField(stat, "hierarchical_memory_limit"); ok {
			limit = min(limit, h)
		}
	}
	if limit < unlimitedV1 {
		m.Limit = limit
	}
	return m, nil
}

// readV2 reads a v2 group's memory.max and its ancestors' up to the
// mount's root, and keeps the lowest ("max", or no file, is none).
func readV2(dir, top string) (Memory, error) {
	m := Memory{Version: 2, Dir: dir}
	top = filepath.Clean(top)
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "memory.max"))
		switch {
		case errors.Is(err, os.ErrNotExist):
			// No limit here: the root group has no memory.max, nor
			// has a group whose parent does not delegate memory.
		case err != nil:
			return m, fmt.Errorf("%w: %w", ErrUnreadable, err)
		default:
			s := strings.TrimSpace(string(data))
			if s != "max" {
				n, err := strconv.ParseUint(s, 10, 64)
				if err != nil {
					return m, fmt.Errorf("%w: %s holds %q", ErrUnreadable, filepath.Join(d, "memory.max"), s)
				}
				if m.Limit == 0 || n < m.Limit {
					m.Limit = n
				}
			}
		}
		if d == top || len(d) <= len(top) || d == filepath.Dir(d) {
			return m, nil
		}
	}
}

// readUint reads a file that holds one decimal number.
func readUint(path string) (uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s holds %q", ErrUnreadable, path, bytes.TrimSpace(data))
	}
	return n, nil
}

// statField returns the value of the line "name value" in a memory.stat.
func statField(stat []byte, name string) (uint64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(stat))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == name {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
