// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package osmem reads the operating system's view of the process's memory:
// resident memory, the program break, anonymous mappings and page faults.
// It is the other half of an allocator's Stats: what the allocator says it
// holds, and what the kernel says the process holds.
//
// On Linux all figures come from the kernel: /proc/self/statm and
// /proc/self/status for residency, the brk system call for the break,
// /proc/self/maps for the mappings, getrusage for faults. Most of Read's
// time goes to parsing /proc/self/maps, which grows with the process's
// mappings; ReadCheap skips the mappings, for sampling often.
//
// On macOS residency comes from Mach's task_info (TASK_VM_INFO, through
// libSystem) and faults from getrusage; macOS has no program break and no
// /proc/self/maps, so Break is 0 there and Mappings (and the mapping
// figures of Read) return an error wrapping errors.ErrUnsupported. On
// other systems every figure but Break returns that error, and Break is 0.
package osmem

import (
	"bytes"
	"sort"
	"strconv"
	"strings"
)

// Snapshot is the process's memory at one moment. Sizes are in bytes.
type Snapshot struct {
	RSS uint64 // resident set: VmRSS (Linux), resident_size (macOS)
	// AnonRSS is the resident anonymous memory (heaps, mmapped blocks):
	// RssAnon (Linux), task_vm_info's internal (macOS).
	AnonRSS uint64
	// PeakRSS is the highest RSS so far: VmHWM (Linux; writing "5" to
	// /proc/self/clear_refs sets it back to the current RSS),
	// resident_size_peak (macOS).
	PeakRSS uint64
	// Break is the program break: the end of the heap that brk grows,
	// where glibc's main arena lives. It is what sbrk(0) returns. 0 where
	// there is none (macOS, Windows).
	Break uintptr
	// AnonMappings and AnonMapped count the anonymous mappings (no file
	// behind them, [heap] and [stack] excluded) and their total size.
	// Adjacent mappings with the same protection are merged by the kernel
	// into one, so AnonMapped follows mmap and munmap more closely than
	// the count does. Zero after ReadCheap.
	AnonMappings int
	AnonMapped   uint64
	MinorFaults  uint64 // page faults served without I/O, since the process started
	MajorFaults  uint64 // page faults that needed I/O
}

// Read takes a full Snapshot.
func Read() (Snapshot, error) {
	s, err := ReadCheap()
	if err != nil {
		return s, err
	}
	s.AnonMappings, s.AnonMapped, err = anonMappings()
	return s, err
}

// Delta is the change between two Snapshots, after minus before.
type Delta struct {
	RSS, AnonRSS, Break, AnonMapped int64
	AnonMappings                    int
	MinorFaults, MajorFaults        int64
}

// Sub returns s minus before.
func (s Snapshot) Sub(before Snapshot) Delta {
	return Delta{
		RSS:          int64(s.RSS - before.RSS),
		AnonRSS:      int64(s.AnonRSS - before.AnonRSS),
		Break:        int64(s.Break - before.Break),
		AnonMapped:   int64(s.AnonMapped - before.AnonMapped),
		AnonMappings: s.AnonMappings - before.AnonMappings,
		MinorFaults:  int64(s.MinorFaults - before.MinorFaults),
		MajorFaults:  int64(s.MajorFaults - before.MajorFaults),
	}
}

// anonMappings counts the anonymous mappings in /proc/self/maps.
func anonMappings() (n int, size uint64, err error) {
	err = eachMapping(func(m Mapping) {
		if m.Anonymous() {
			n++
			size += uint64(m.End - m.Start)
		}
	})
	return n, size, err
}

// Mapping is one region of the process's address space, a line of
// /proc/self/maps.
type Mapping struct {
	Start, End uintptr // [Start, End)
	Perms      string  // "rw-p" and the like
	Inode      uint64  // 0 for memory with no file behind it
	Path       string  // the file, or [heap], [stack], [anon:name], or ""
}

// Anonymous reports whether m has no file behind it and is not one of the
// kernel's special regions: unnamed, or named by prctl(PR_SET_VMA) as
// [anon:...]. The brk heap is not anonymous in this sense: see Heap.
func (m Mapping) Anonymous() bool {
	return m.Inode == 0 && (m.Path == "" || strings.HasPrefix(m.Path, "[anon:"))
}

// Heap reports whether m is the brk heap, [heap], the region between the
// end of the program's data and the program break.
func (m Mapping) Heap() bool { return m.Path == "[heap]" }

// Contains reports whether addr lies in m.
func (m Mapping) Contains(addr uintptr) bool { return m.Start <= addr && addr < m.End }

// Mappings returns the process's mappings, in address order.
func Mappings() ([]Mapping, error) {
	var ms []Mapping
	err := eachMapping(func(m Mapping) { ms = append(ms, m) })
	return ms, err
}

// Find returns the mapping that contains addr in ms (as Mappings returns
// them), and false if none does.
func Find(ms []Mapping, addr uintptr) (Mapping, bool) {
	i := sort.Search(len(ms), func(i int) bool { return ms[i].End > addr })
	if i < len(ms) && ms[i].Contains(addr) {
		return ms[i], true
	}
	return Mapping{}, false
}

// parseMapsLine parses start-end perms offset dev inode [path].
func parseMapsLine(line []byte) (Mapping, bool) {
	f := bytes.Fields(line)
	if len(f) < 5 {
		return Mapping{}, false
	}
	lo, hi, ok := bytes.Cut(f[0], []byte("-"))
	if !ok {
		return Mapping{}, false
	}
	start, err1 := strconv.ParseUint(string(lo), 16, 64)
	end, err2 := strconv.ParseUint(string(hi), 16, 64)
	inode, err3 := strconv.ParseUint(string(f[4]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || end < start {
		return Mapping{}, false
	}
	m := Mapping{Start: uintptr(start), End: uintptr(end), Perms: string(f[1]), Inode: inode}
	if len(f) > 5 {
		// A path may hold spaces: take the rest of the line.
		m.Path = string(bytes.TrimSpace(line[bytes.Index(line, f[5]):]))
	}
	return m, true
}
