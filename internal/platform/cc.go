// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package platform

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
)

// ErrNoCompiler is wrapped by CCompiler's error when no C compiler for the
// process's architecture is installed; the error says which Debian package
// to install.
var ErrNoCompiler = errors.New("platform: no C compiler for this architecture")

// crossGCC is, per GOARCH, the GNU triple that Debian's cross compilers are
// named after, the package that installs one, and Debian's multiarch name
// for the architecture (the directory under /usr/lib of its libraries;
// the triple but for 386).
var crossGCC = map[string]struct{ triple, pkg, multiarch string }{
	"amd64":   {"x86_64-linux-gnu", "gcc-x86-64-linux-gnu", "x86_64-linux-gnu"},
	"arm64":   {"aarch64-linux-gnu", "gcc-aarch64-linux-gnu", "aarch64-linux-gnu"},
	"386":     {"i686-linux-gnu", "gcc-i686-linux-gnu", "i386-linux-gnu"},
	"arm":     {"arm-linux-gnueabihf", "gcc-arm-linux-gnueabihf", "arm-linux-gnueabihf"},
	"riscv64": {"riscv64-linux-gnu", "gcc-riscv64-linux-gnu", "riscv64-linux-gnu"},
	"ppc64le": {"powerpc64le-linux-gnu", "gcc-powerpc64le-linux-gnu", "powerpc64le-linux-gnu"},
	"s390x":   {"s390x-linux-gnu", "gcc-s390x-linux-gnu", "s390x-linux-gnu"},
}

// Multiarch returns Debian's multiarch name for this process's
// architecture, "aarch64-linux-gnu" for linux/arm64: /usr/lib/Multiarch()
// holds the libraries it can load (with several architectures installed,
// /usr/lib/x86_64-linux-gnu holds the others'). It is "" for an
// architecture Debian does not name here.
func Multiarch() string { return crossGCC[runtime.GOARCH].multiarch }

// CCompiler returns the C compiler that builds code this process can load
// or run: $CC if set (the user's choice, taken as is); else cc if it
// targets runtime.GOARCH; else the Debian cross compiler for it
// (aarch64-linux-gnu-gcc for a linux/arm64 process under emulation on an
// x86-64 machine). If there is none the error wraps ErrNoCompiler and
// names the package to install.
var CCompiler = sync.OnceValues(func() (string, error) {
	if cc := os.Getenv("CC"); cc != "" {
		return cc, nil
	}
	if runtime.GOOS != "linux" {
		return systemCC(runtime.GOOS, exec.LookPath)
	}
	return cCompiler(runtime.GOARCH, exec.LookPath, dumpMachine)
})

// systemCC is CCompiler's choice off Linux, where Debian's cross compilers
// do not apply: the system's cc (Xcode's clang on macOS, which builds for
// the machine's own architecture).
func systemCC(goos string, lookPath func(string) (string, error)) (string, error) {
	if _, err := lookPath("cc"); err == nil {
		return "cc", nil
	}
	if goos == "darwin" {
		return "", fmt.Errorf("%w: no cc on darwin; install Xcode's command line tools (xcode-select --install) or set CC", ErrNoCompiler)
	}
	return "", fmt.Errorf("%w: no cc on %s; install one or set CC", ErrNoCompiler, goos)
}

// dumpMachine returns the target triple that the compiler cc builds for.
func dumpMachine(cc string) string {
	out, _ := exec.Command(cc, "-dumpmachine").Output()
	return strings.TrimSpace(string(out))
}

// cCompiler is CCompiler's choice for goarch, given a PATH look-up and a
// way to ask a compiler its target.
func cCompiler(goarch string, lookPath func(string) (string, error), target func(cc string) string) (string, error) {
	cross, known := crossGCC[goarch]
	arch, _, _ := strings.Cut(cross.triple, "-")
	var ccTarget string
	if path, err := lookPath("cc"); err == nil {
		ccTarget = target(path)
		t, _, _ := strings.Cut(ccTarget, "-")
		if !known || t == arch {
			return "cc", nil
		}
	}
	if !known {
		return "", fmt.Errorf("%w: no cc for linux/%s; install one (apt-get install gcc) or set CC", ErrNoCompiler, goarch)
	}
	name := cross.triple + "-gcc"
	if _, err := lookPath(name); err == nil {
		return name, nil
	}
	if ccTarget == "" {
		return "", fmt.Errorf("%w: neither cc nor %s is installed for linux/%s: apt-get install gcc (on a %s machine) "+
			"or %s, or set CC", ErrNoCompiler, name, goarch, arch, cross.pkg)
	}
	return "", fmt.Errorf("%w: cc builds for %s, this process is linux/%s, and %s is not installed: "+
		"apt-get install %s, or set CC", ErrNoCompiler, ccTarget, goarch, name, cross.pkg)
}
