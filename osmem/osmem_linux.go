// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package osmem

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"unsafe"

	"github.com/nalloc/nalloc/internal/platform"
)

// ReadCheap takes a Snapshot without the mappings, cheap enough to call in
// a tight sampling loop.
func ReadCheap() (Snapshot, error) {
	var s Snapshot
	var err error
	if s.RSS, s.AnonRSS, s.PeakRSS, err = residency(); err != nil {
		return s, err
	}
	s.Break = Break()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return s, fmt.Errorf("osmem: getrusage: %w", err)
	}
	s.MinorFaults, s.MajorFaults = uint64(ru.Minflt), uint64(ru.Majflt)
	return s, nil
}

// Break returns the program break. brk(0) asks the kernel without moving
// it; glibc's sbrk(0) returns its cached copy of the same value.
func Break() uintptr {
	brk, _, _ := syscall.RawSyscall(syscall.SYS_BRK, 0, 0, 0)
	return brk
}

var errFormat = errors.New("osmem: unexpected /proc format")

// statusField is a line of /proc/self/status that residency reads, and
// where it stores the figure.
type statusField struct {
	prefix string
	dst    *uint64
}

// residency reads VmRSS, RssAnon and VmHWM from /proc/self/status.
func residency() (rss, anon, peak uint64, err error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0, 0, fmt.Errorf("osmem: %w", err)
	}
	fields := []statusField{{"VmRSS:", &rss}, {"RssAnon:", &anon}, {"VmHWM:", &peak}}
	var found int
	for line := range bytes.Lines(data) {
		i := slices.IndexFunc(fields, func(f statusField) bool { return bytes.HasPrefix(line, []byte(f.prefix)) })
		if i < 0 {
			continue
		}
		f := bytes.Fields(line)
		if len(f) != 3 || string(f[2]) != "kB" {
			return 0, 0, 0, fmt.Errorf("%w: /proc/self/status line %q", errFormat, line)
		}
		kb, err := strconv.ParseUint(string(f[1]), 10, 64)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("%w: /proc/self/status line %q", errFormat, line)
		}
		*fields[i].dst = kb << 10
		found++
	}
	if found != len(fields) {
		return 0, 0, 0, fmt.Errorf("%w: no VmRSS, RssAnon or VmHWM in /proc/self/status", errFormat)
	}
	return rss, anon, peak, nil
}

func eachMapping(f func(Mapping)) error {
	file, err := os.Open("/proc/self/maps")
	if err != nil {
		return fmt.Errorf("osmem: %w", err)
	}
	defer file.Close()
	// qemu-user writes the /proc/self/maps of the emulated process itself,
	// and names no [heap] (7.2 and 10.0 alike): the brk heap shows as
	// an unnamed anonymous mapping. Under emulation, the unnamed mapping
	// that holds the byte below the break is named here as the kernel
	// would. (A native kernel is trusted as it is: with an empty heap the
	// byte below the break may lie in the program's own bss.)
	var brk uintptr
	if platform.Emulation() != "" {
		brk = Break()
	}
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		m, ok := parseMapsLine(sc.Bytes())
		if !ok {
			return fmt.Errorf("%w: /proc/self/maps line %q", errFormat, sc.Text())
		}
		if brk != 0 && m.Path == "" && m.Inode == 0 && m.Contains(brk-1) {
			m.Path = "[heap]"
		}
		f(m)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("osmem: /proc/self/maps: %w", err)
	}
	return nil
}

// statm is /proc/self/statm, opened once by Resident and kept open: the
// kernel regenerates the file on every read at offset 0, so one
// descriptor serves every call.
var statm struct {
	once sync.Once
	fd   int
	err  error
}

// Resident returns the process's resident memory and its anonymous part,
// in bytes, from /proc/self/statm: the kernel's per-process page counters,
// read without walking the page tables or the mappings, so it costs one
// pread of a one-line file (about a microsecond) whatever the size of the
// process, and makes no Go heap allocation. anon is RSS less the pages
// backed by files and shared memory (statm's resident minus shared): the
// heaps of every allocator in the process, the Go runtime's memory, thread
// stacks and the written pages of the program's data. Since Linux 6.2 the
// counters are per-CPU and read without summing, so they may lag by up to
// a few hundred KiB per CPU; /proc/self/status sums them.
func Resident() (rss, anon uint64, err error) {
	statm.once.Do(func() {
		statm.fd, statm.err = syscall.Open("/proc/self/statm", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if statm.err != nil {
			statm.err = fmt.Errorf("osmem: open /proc/self/statm: %w", statm.err)
		}
	})
	if statm.err != nil {
		return 0, 0, statm.err
	}
	var buf [128]byte // "size resident shared text lib data dt\n" in pages
	// pread(2) itself rather than syscall.Pread, whose race-detector
	// annotation of the buffer moves it to the heap in -race builds.
	r, _, errno := syscall.Syscall6(syscall.SYS_PREAD64, uintptr(statm.fd),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0, 0)
	if errno != 0 {
		return 0, 0, fmt.Errorf("osmem: read /proc/self/statm: %w", errno)
	}
	n := int(r)
	var f [3]uint64 // size, resident, shared
	line := buf[:max(n, 0)]
	bad := func(why string) error { // a copy: buf stays on the stack
		return fmt.Errorf("%w: /proc/self/statm %q%s", errFormat, string(buf[:max(n, 0)]), why)
	}
	for i := range f {
		line = bytes.TrimLeft(line, " ")
		j := 0
		for j < len(line) && '0' <= line[j] && line[j] <= '9' {
			f[i] = f[i]*10 + uint64(line[j]-'0')
			j++
		}
		if j == 0 {
			return 0, 0, bad("")
		}
		line = line[j:]
	}
	if f[2] > f[1] {
		return 0, 0, bad(": shared above resident")
	}
	page := uint64(syscall.Getpagesize())
	return f[1] * page, (f[1] - f[2]) * page, nil
}
