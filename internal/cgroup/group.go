// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrNoV1Memory is NewV1Group's error when no cgroup v1 hierarchy with
// the memory controller is mounted.
var ErrNoV1Memory = errors.New("cgroup: no cgroup v1 memory hierarchy is mounted")

// Group is a cgroup v1 memory group that a test or a tool made, to run
// processes under a limit and read what the kernel did to them: the
// peak usage it charged, how often the limit was hit, and how many
// processes its OOM killer killed. Its methods are safe for concurrent
// use.
type Group struct {
	Dir string
}

// V1MemoryMount returns where the cgroup v1 memory hierarchy is mounted
// ("/sys/fs/cgroup/memory"), from /proc/self/mountinfo.
func V1MemoryMount() (string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	v1, _ := parseMounts(data)
	if v1.point == "" {
		return "", ErrNoV1Memory
	}
	return v1.point, nil
}

// NewV1Group makes the group name at the top of the v1 memory hierarchy
// with the given limit in bytes; it needs root. Remove it when done.
func NewV1Group(name string, limit uint64) (*Group, error) {
	mnt, err := V1MemoryMount()
	if err != nil {
		return nil, err
	}
	g := &Group{Dir: filepath.Join(mnt, name)}
	if err := os.Mkdir(g.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	if err := g.write("memory.limit_in_bytes", strconv.FormatUint(limit, 10)); err != nil {
		g.Remove()
		return nil, err
	}
	return g, nil
}

func (g *Group) write(file, value string) error {
	if err := os.WriteFile(filepath.Join(g.Dir, file), []byte(value), 0); err != nil {
		return fmt.Errorf("cgroup: %w", err)
	}
	return nil
}

// Add moves the process pid into the group. Memory it charged before
// stays charged where it was (v1 moves no charges by default).
func (g *Group) Add(pid int) error { return g.write("cgroup.procs", strconv.Itoa(pid)) }

// Usage is what the kernel recorded for a group.
type Usage struct {
	Limit    uint64 // memory.limit_in_bytes
	Peak     uint64 // memory.max_usage_in_bytes: the highest charge
	Failcnt  uint64 // memory.failcnt: how often a charge hit the limit (and had to reclaim)
	OOMKills uint64 // oom_kill in memory.oom_control (Linux 4.13 and later)
}

// Usage reads the group's figures.
func (g *Group) Usage() (Usage, error) {
	var u Usage
	var err error
	if u.Limit, err = readUint(filepath.Join(g.Dir, "memory.limit_in_bytes")); err != nil {
		return u, err
	}
	if u.Peak, err = readUint(filepath.Join(g.Dir, "memory.max_usage_in_bytes")); err != nil {
		return u, err
	}
	if u.Failcnt, err = readUint(filepath.Join(g.Dir, "memory.failcnt")); err != nil {
		return u, err
	}
	oom, err := os.ReadFile(filepath.Join(g.Dir, "memory.oom_control"))
	if err != nil {
		return u, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	var ok bool
	if u.OOMKills, ok = statField(oom, "oom_kill"); !ok {
		return u, fmt.Errorf("%w: no oom_kill in %s", ErrUnreadable, filepath.Join(g.Dir, "memory.oom_control"))
	}
	return u, nil
}

// Remove removes the group. A group with processes in it cannot be
// removed: Remove waits up to a few seconds for the ones that are
// exiting, then fails.
func (g *Group) Remove() error {
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		err = os.Remove(g.Dir)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if time.Now().After(deadline) {
			procs, _ := os.ReadFile(filepath.Join(g.Dir, "cgroup.procs"))
			return fmt.Errorf("cgroup: %w (processes left: %s)", err, strings.Fields(string(procs)))
		}
	}
}
