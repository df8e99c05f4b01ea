// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package mimalloc_test

import (
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/mimalloc"
)

func TestParseOption(t *testing.T) {
	for _, name := range []string{"decommit_delay", "DECOMMIT_DELAY", "mi_option_decommit_delay", "MIMALLOC_DECOMMIT_DELAY"} {
		if o, err := mimalloc.ParseOption(name); err != nil || o != mimalloc.DecommitDelay {
			t.Errorf("ParseOption(%q) = %v, %v; want decommit_delay", name, o, err)
		}
	}
	for o := mimalloc.ShowErrors; o <= mimalloc.DestroyOnExit; o++ {
		if got, err := mimalloc.ParseOption(o.String()); err != nil || got != o {
			t.Errorf("ParseOption(%q) = %v, %v; want %d", o.String(), got, err, o)
		}
	}
	_, err := mimalloc.ParseOption("purge_delay") // 2.1's name for it
	if !errors.Is(err, mimalloc.ErrUnknownOption) || !strings.Contains(err.Error(), "decommit_delay") {
		t.Errorf("ParseOption(purge_delay) err = %v, want ErrUnknownOption listing the names", err)
	}
	if s := mimalloc.Option(99).String(); s != "Option(99)" {
		t.Errorf("Option(99).String() = %q", s)
	}
	if _, err := open(t).GetOption(mimalloc.Option(99)); !errors.Is(err, mimalloc.ErrUnknownOption) {
		t.Errorf("GetOption(99) err = %v, want ErrUnknownOption", err)
	}
}

// TestOptionNames checks this package's table against the library: with
// MIMALLOC_VERBOSE=1, mimalloc prints every option, in enum order, when it
// is loaded.
func TestOptionNames(t *testing.T) {
	if os.Getenv("NALLOC_MIMALLOC_CHILD") == "names" {
		open(t)
		return
	}
	if v := open(t).Version(); !strings.HasPrefix(v, "2.0.") {
		t.Skipf("the option table is 2.0.x's; this library is %s", v)
	}
	out := runChild(t, "TestOptionNames", "NALLOC_MIMALLOC_CHILD=names", "MIMALLOC_VERBOSE=1")
	var got []string
	for _, m := range regexp.MustCompile(`mimalloc: option '(\w+)'`).FindAllStringSubmatch(out, -1) {
		got = append(got, m[1])
	}
	var want []string
	for o := mimalloc.ShowErrors; o <= mimalloc.DestroyOnExit; o++ {
		want = append(want, o.String())
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("the library lists its options as\n%v\nthis package has\n%v", got, want)
	}
}

// TestSetOptionTakesEffect sets limit_os_alloc, which forbids mimalloc to
// take new memory from the OS: a block larger than anything mimalloc holds
// must then fail with ErrOutOfMemory, and succeed again once it is reset.
// TestTune sets options from text, as the probe's -set flag gives them,
// and reads them back.
func TestTune(t *testing.T) {
	a := open(t)
	was, err := a.GetOption(mimalloc.DecommitDelay)
	if err != nil {
		t.Fatal(err)
	}
	defer a.SetOption(mimalloc.DecommitDelay, was)
	if err := a.Tune("MIMALLOC_DECOMMIT_DELAY", "0x10"); err != nil {
		t.Fatal(err)
	}
	if v, _ := a.GetOption(mimalloc.DecommitDelay); v != 16 {
		t.Errorf("decommit_delay after Tune 0x10 = %d", v)
	}
	verbose, _ := a.GetOption(mimalloc.Verbose)
	defer a.SetOption(mimalloc.Verbose, verbose)
	if err := a.Tune("verbose", "false"); err != nil {
		t.Fatal(err)
	}
	if err := a.Tune("no_such_option", "1"); !errors.Is(err, mimalloc.ErrUnknownOption) {
		t.Errorf("Tune of an unknown option: %v", err)
	}
	if err := a.Tune("decommit_delay", "soon"); !errors.Is(err, strconv.ErrSyntax) || !strings.Contains(err.Error(), "decommit_delay") {
		t.Errorf("Tune with a value that is not a number: %v", err)
	}
}

func TestSetOptionTakesEffect(t *testing.T) {
	a := open(t)
	was, err := a.GetOption(mimalloc.LimitOSAlloc)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetOption(mimalloc.LimitOSAlloc, 1); err != nil {
		t.Fatal(err)
	}
	defer a.SetOption(mimalloc.LimitOSAlloc, was)
	if v, _ := a.GetOption(mimalloc.LimitOSAlloc); v != 1 {
		t.Fatalf("GetOption(limit_os_alloc) = %d after setting 1", v)
	}
	l := nalloc.Layout{Size: 256 << 20, Align: 8}
	if p, err := a.Allocate(l); !errors.Is(err, nalloc.ErrOutOfMemory) {
		if err == nil {
			a.Deallocate(p, l)
		}
		t.Fatalf("Allocate(%v) with limit_os_alloc=1: err = %v, want ErrOutOfMemory", l, err)
	}
	if err := a.SetOption(mimalloc.LimitOSAlloc, was); err != nil {
		t.Fatal(err)
	}
	p, err := a.Allocate(l)
	if err != nil {
		t.Fatalf("Allocate(%v) with limit_os_alloc=%d: %v", l, was, err)
	}
	a.Deallocate(p, l)
}
