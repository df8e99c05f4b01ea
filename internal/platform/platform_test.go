// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package platform

import (
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const (
	x86CPUInfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nflags\t\t: fpu vme de pse\n"
	armCPUInfo = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes\nCPU implementer\t: 0x41\n"
)

func TestEmulationDecision(t *testing.T) {
	for _, tt := range []struct {
		goarch, kernel, cpuinfo string
		emulated                bool
	}{
		{"amd64", "x86_64", "", false},
		{"386", "x86_64", "", false}, // compat mode, not emulation
		{"arm64", "aarch64", "", false},
		{"arm", "aarch64", "", false},
		{"arm64", "x86_64", "", true},  // qemu-user through binfmt_misc
		{"amd64", "aarch64", "", true}, // Docker on Apple silicon
		{"arm64", "", x86CPUInfo, true},
		{"arm64", "", armCPUInfo, false},
		{"amd64", "", armCPUInfo, true},
		{"amd64", "", x86CPUInfo, false},
		{"arm64", "", "", false},       // cannot tell: not claimed
		{"arm64", "mips64", "", false}, // unknown kernel: not claimed
	} {
		got := emulation(tt.goarch, tt.kernel, tt.cpuinfo)
		if (got != "") != tt.emulated {
			t.Errorf("emulation(%s, kernel %q, cpuinfo of %d bytes) = %q, want emulated %v",
				tt.goarch, tt.kernel, len(tt.cpuinfo), got, tt.emulated)
		}
		if got != "" && (!strings.Contains(got, tt.goarch) || !strings.Contains(got, "emulated")) {
			t.Errorf("emulation(%s, ...) = %q: does not name the binary's architecture and emulation", tt.goarch, got)
		}
	}
}

// TestEmulationOfThisProcess checks Emulation against what the harness
// knows: make test sets NALLOC_EXPECT_EMULATED=0, make test-arm64 sets it
// to 1 when it runs the suite under qemu-user (0 on an arm64 machine).
func TestEmulationOfThisProcess(t *testing.T) {
	got := Emulation()
	t.Logf("linux/%s: Emulation() = %q", runtime.GOARCH, got)
	want := os.Getenv("NALLOC_EXPECT_EMULATED")
	if want == "" {
		t.Skip("NALLOC_EXPECT_EMULATED not set (make test and make test-arm64 set it)")
	}
	if (got != "") != (want == "1") {
		t.Errorf("Emulation() = %q, but the harness says NALLOC_EXPECT_EMULATED=%s", got, want)
	}
}

func TestCCompilerChoice(t *testing.T) {
	installed := func(names ...string) func(string) (string, error) {
		return func(name string) (string, error) {
			for _, n := range names {
				if n == name {
					return "/usr/bin/" + name, nil
				}
			}
			return "", exec.ErrNotFound
		}
	}
	x86 := func(string) string { return "x86_64-linux-gnu" }
	arm := func(string) string { return "aarch64-linux-gnu" }
	for _, tt := range []struct {
		name, goarch string
		path         func(string) (string, error)
		target       func(string) string
		want, errHas string
	}{
		{"native amd64", "amd64", installed("cc"), x86, "cc", ""},
		{"native arm64", "arm64", installed("cc"), arm, "cc", ""},
		{"arm64 under emulation", "arm64", installed("cc", "aarch64-linux-gnu-gcc"), x86, "aarch64-linux-gnu-gcc", ""},
		{"arm64, no cross compiler", "arm64", installed("cc"), x86, "", "apt-get install gcc-aarch64-linux-gnu"},
		{"nothing at all", "arm64", installed(), x86, "", "gcc-aarch64-linux-gnu"},
		{"amd64 on an arm64 machine", "amd64", installed("cc", "x86_64-linux-gnu-gcc"), arm, "x86_64-linux-gnu-gcc", ""},
		{"an arch without a cross table", "mips64", installed("cc"), x86, "cc", ""},
	} {
		got, err := cCompiler(tt.goarch, tt.path, tt.target)
		if tt.errHas != "" {
			if !errors.Is(err, ErrNoCompiler) || !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("%s: cCompiler = %q, %v; want an ErrNoCompiler saying %q", tt.name, got, err, tt.errHas)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: cCompiler = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

// elfMachine is the ELF machine of each GOARCH's binaries.
var elfMachine = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "386": elf.EM_386,
	"arm": elf.EM_ARM, "riscv64": elf.EM_RISCV, "ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390}

// TestCCompilerTargetsThisProcess builds a shared library with CCompiler
// and checks that its ELF machine is this process's.
func TestCCompilerTargetsThisProcess(t *testing.T) {
	cc, err := CCompiler()
	if err != nil {
		if os.Getenv("NALLOC_REQUIRE_CC") == "1" {
			t.Fatalf("%v (NALLOC_REQUIRE_CC=1)", err)
		}
		t.Skip(err)
	}
	dir := t.TempDir()
	src, so := filepath.Join(dir, "x.c"), filepath.Join(dir, "x.so")
	if err := os.WriteFile(src, []byte("int x(void) { return 1; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(cc, "-shared", "-fPIC", "-o", so, src).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cc, err, out)
	}
	f, err := elf.Open(so)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if want := elfMachine[runtime.GOARCH]; f.Machine != want {
		t.Errorf("%s built for %v; this process is linux/%s (%v)", cc, f.Machine, runtime.GOARCH, elfMachine[runtime.GOARCH])
	}
}

// TestMultiarch checks that /usr/lib/Multiarch() holds this process's own
// libc, on a Debian system.
func TestMultiarch(t *testing.T) {
	m := Multiarch()
	if m == "" {
		t.Skipf("no multiarch name for linux/%s", runtime.GOARCH)
	}
	f, err := elf.Open(filepath.Join("/usr/lib", m, "libc.so.6"))
	if err != nil {
		t.Skipf("not a Debian multiarch layout: %v", err)
	}
	defer f.Close()
	if want := elfMachine[runtime.GOARCH]; f.Machine != want {
		t.Errorf("/usr/lib/%s/libc.so.6 is for %v; this process is linux/%s (%v)", m, f.Machine, runtime.GOARCH, want)
	}
}

// TestSystemCC checks CCompiler's choice off Linux: the system's cc, or
// an error wrapping ErrNoCompiler that says how to get one on macOS.
func TestSystemCC(t *testing.T) {
	have := func(string) (string, error) { return "/usr/bin/cc", nil }
	none := func(name string) (string, error) { return "", exec.ErrNotFound }
	if cc, err := systemCC("darwin", have); cc != "cc" || err != nil {
		t.Errorf("darwin with cc: %q, %v", cc, err)
	}
	cc, err := systemCC("darwin", none)
	if !errors.Is(err, ErrNoCompiler) || !strings.Contains(err.Error(), "xcode-select --install") || cc != "" {
		t.Errorf("darwin without cc: %q, %v", cc, err)
	}
	if _, err := systemCC("windows", none); !errors.Is(err, ErrNoCompiler) {
		t.Errorf("windows without cc: %v", err)
	}
}
