// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package osmem

import (
	"syscall"
	"testing"
	"unsafe"
)

func TestReadSeesAnonymousMapping(t *testing.T) {
	before, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	if before.RSS == 0 || before.AnonRSS == 0 || before.Break == 0 || before.AnonMappings == 0 {
		t.Fatalf("Read() = %+v, want non-zero figures", before)
	}
	const size = 64 << 20
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < size; i += 4096 {
		mem[i] = 1
	}
	during, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	syscall.Munmap(mem)
	after, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	d := during.Sub(before)
	// Faults: one per page, or one per 2 MiB where transparent huge
	// pages back the mapping.
	if d.AnonMapped < size || d.AnonRSS < size*9/10 || d.RSS < size*9/10 || d.MinorFaults < size>>21 {
		t.Errorf("with 64 MiB mapped and touched: delta %+v", d)
	}
	if back := after.Sub(during); back.AnonMapped > -size*9/10 || back.AnonRSS > -size*9/10 {
		t.Errorf("after munmap of 64 MiB: delta %+v", back)
	}
}

func TestBreakFollowsBrk(t *testing.T) {
	b0 := Break()
	// Move the break ourselves (nothing in a Go process uses brk unless
	// glibc's main arena does, and it lives on the main thread's calls),
	// then put it back.
	want := b0 + 1<<20
	if got, _, _ := syscall.RawSyscall(syscall.SYS_BRK, want, 0, 0); got != want {
		t.Skipf("brk(%#x) = %#x: the kernel would not move the break", want, got)
	}
	defer syscall.RawSyscall(syscall.SYS_BRK, b0, 0, 0)
	if got := Break(); got != want {
		t.Fatalf("Break() = %#x after brk(%#x)", got, want)
	}
}

func TestMappingsFind(t *testing.T) {
	ms, err := Mappings()
	if err != nil {
		t.Fatal(err)
	}
	var x int
	m, ok := Find(ms, uintptr(unsafe.Pointer(&x)))
	if !ok || m.Perms[:2] != "rw" {
		t.Fatalf("Find(&x) = %+v, %v; want a writable mapping", m, ok)
	}
	if _, ok := Find(ms, 4096); ok {
		t.Error("Find(4096) found a mapping below mmap_min_addr")
	}
	m, err2 := parseMapsLine([]byte("7f99884b8000-7f998860e000 r-xp 00026000 fe:00 326269   /tmp/a b/lib.so"))
	if !err2 || m.Path != "/tmp/a b/lib.so" || m.Inode != 326269 {
		t.Errorf("a path with a space: %+v", m)
	}
}

// TestBrkHeapIsNamed moves the program break up by 1 MiB with the brk
// system call and checks that Mappings names the region below it the brk
// heap and that Read does not count it as anonymous: the kernel names it
// [heap], and under qemu-user, which does not, osmem does.
func TestBrkHeapIsNamed(t *testing.T) {
	const grow = 1 << 20
	start := Break()
	before, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := syscall.RawSyscall(syscall.SYS_BRK, start+grow, 0, 0); got != start+grow {
		t.Skipf("brk(%#x) = %#x: the kernel refused to move the break", start+grow, got)
	}
	defer syscall.RawSyscall(syscall.SYS_BRK, start, 0, 0)
	ms, err := Mappings()
	if err != nil {
		t.Fatal(err)
	}
	after, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	m, ok := Find(ms, start+grow-1)
	if !ok || !m.Heap() || m.Anonymous() {
		t.Errorf("the byte below the break (%#x) lies in %+v (found %v); want the brk heap, not anonymous", start+grow-1, m, ok)
	}
	if d := after.Sub(before); d.Break != grow || d.AnonMapped >= grow {
		t.Errorf("with the break moved by 1 MiB: Break %+d, AnonMapped %+d; want %d and less than that", d.Break, d.AnonMapped, grow)
	}
}

func TestResidentFollowsAnonymousMemory(t *testing.T) {
	rss0, anon0, err := Resident()
	if err != nil {
		t.Fatal(err)
	}
	if anon0 == 0 || rss0 < anon0 {
		t.Fatalf("Resident() = %d, %d: want 0 < anon <= rss", rss0, anon0)
	}
	// statm and status read the same counters (status sums the per-CPU
	// parts, statm may not): they agree within a few MiB.
	s, err := ReadCheap()
	if err != nil {
		t.Fatal(err)
	}
	if d := int64(s.AnonRSS) - int64(anon0); d < -4<<20 || d > 4<<20 {
		t.Errorf("Resident anon %d, /proc/self/status RssAnon %d: more than 4 MiB apart", anon0, s.AnonRSS)
	}
	const size = 64 << 20
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < size; i += 4096 {
		mem[i] = 1
	}
	_, anon1, err := Resident()
	syscall.Munmap(mem)
	if err != nil {
		t.Fatal(err)
	}
	_, anon2, _ := Resident()
	if grew := int64(anon1) - int64(anon0); grew < size*9/10 {
		t.Errorf("anon grew by %d with 64 MiB mapped and touched", grew)
	}
	if fell := int64(anon1) - int64(anon2); fell < size*9/10 {
		t.Errorf("anon fell by %d after munmap of 64 MiB", fell)
	}
	if n := testing.AllocsPerRun(100, func() { Resident() }); n != 0 {
		t.Errorf("Resident makes %v Go heap allocations, want 0", n)
	}
}
