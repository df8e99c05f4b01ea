// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package jemalloc_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/nalloc/nalloc/jemalloc"
)

func TestMallctlRead(t *testing.T) {
	a := open(t)
	if v, err := jemalloc.Mallctl[bool](a, "config.stats"); err != nil || !v {
		t.Errorf("config.stats = %v, %v; Debian builds jemalloc with statistics", v, err)
	}
	if n, err := jemalloc.Mallctl[uint32](a, "arenas.narenas"); err != nil || n == 0 {
		t.Errorf("arenas.narenas = %v, %v", n, err)
	}
	if p, err := jemalloc.Mallctl[uintptr](a, "arenas.page"); err != nil || p != a.Page() {
		t.Errorf("arenas.page = %v, %v; want %d", p, err, a.Page())
	}
	if d, err := jemalloc.Mallctl[int64](a, "opt.dirty_decay_ms"); err != nil || d < -1 {
		t.Errorf("opt.dirty_decay_ms = %v, %v", d, err)
	}
	if v, err := jemalloc.Mallctl[string](a, "version"); err != nil || !strings.HasPrefix(v, "5.") {
		t.Errorf("version = %q, %v", v, err)
	}
}

func TestMallctlWrite(t *testing.T) {
	a := open(t)
	ar := newHeap(t)
	prefix := fmt.Sprintf("arena.%d.", ar.Index())

	// ssize_t, read back.
	if err := jemalloc.SetMallctl(a, prefix+"dirty_decay_ms", int64(1234)); err != nil {
		t.Fatal(err)
	}
	if d, err := jemalloc.Mallctl[int64](a, prefix+"dirty_decay_ms"); err != nil || d != 1234 {
		t.Errorf("dirty_decay_ms after writing 1234 = %v, %v", d, err)
	}
	// const char *, read back: the string goes to C through C memory.
	if err := jemalloc.SetMallctl(a, prefix+"dss", "disabled"); err != nil {
		t.Fatal(err)
	}
	if s, err := jemalloc.Mallctl[string](a, prefix+"dss"); err != nil || s != "disabled" {
		t.Errorf("dss after writing %q = %q, %v", "disabled", s, err)
	}
	// bool, on this thread's state; put back as it was.
	before, err := jemalloc.Mallctl[bool](a, "thread.tcache.enabled")
	if err != nil {
		t.Fatal(err)
	}
	if err := jemalloc.SetMallctl(a, "thread.tcache.enabled", before); err != nil {
		t.Fatal(err)
	}
	// An action.
	if err := a.MallctlDo("thread.tcache.flush"); err != nil {
		t.Fatal(err)
	}
}

// TestTune writes mallctls from text, as the probe's -set flag gives
// them, and reads them back: an ssize_t, a bool, a C unsigned, a string.
func TestTune(t *testing.T) {
	a := open(t)
	h := newHeap(t)
	prefix := fmt.Sprintf("arena.%d.", h.Index())
	if err := a.Tune(prefix+"dirty_decay_ms", "2500"); err != nil {
		t.Fatal(err)
	}
	if d, err := jemalloc.Mallctl[int64](a, prefix+"dirty_decay_ms"); err != nil || d != 2500 {
		t.Errorf("dirty_decay_ms after Tune 2500 = %v, %v", d, err)
	}
	if err := a.Tune(prefix+"dss", "disabled"); err != nil {
		t.Fatal(err)
	}
	before, err := jemalloc.Mallctl[bool](a, "thread.tcache.enabled")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Tune("thread.tcache.enabled", strconv.FormatBool(before)); err != nil {
		t.Errorf("Tune of a bool: %v", err)
	}
	if err := a.Tune("arenas.create", "1"); err == nil {
		t.Errorf("Tune of arenas.create, which is read-only, succeeded")
	}
	if err := a.Tune("no.such.mallctl", "1"); !errors.Is(err, jemalloc.ErrUnknownMallctl) {
		t.Errorf("Tune of an unknown mallctl: %v", err)
	}
}

// TestMallctlErrors checks that each way of getting a mallctl wrong gets
// an error that matches its sentinel and errno, names the mallctl, and
// says what to do.
func TestMallctlErrors(t *testing.T) {
	a := open(t)
	ar := newHeap(t)
	decay := fmt.Sprintf("arena.%d.dirty_decay_ms", ar.Index())
	dss := fmt.Sprintf("arena.%d.dss", ar.Index())
	cases := []struct {
		name     string
		call     func() error
		sentinel error
		errno    syscall.Errno
		says     string
	}{
		{"unknown name", func() error { _, err := jemalloc.Mallctl[uint64](a, "stats.bogus"); return err },
			jemalloc.ErrUnknownMallctl, syscall.ENOENT, "MALLCTL NAMESPACE"},
		{"arena that does not exist", func() error { return a.MallctlDo("arena.4000.purge") },
			jemalloc.ErrUnknownMallctl, syscall.ENOENT, "index that exists"},
		{"bool read as uint64", func() error { _, err := jemalloc.Mallctl[uint64](a, "config.stats"); return err },
			jemalloc.ErrMallctlValue, syscall.EINVAL, "1 byte(s) wide: use bool"},
		{"unsigned read as uint64", func() error { _, err := jemalloc.Mallctl[uint64](a, "arenas.narenas"); return err },
			jemalloc.ErrMallctlValue, syscall.EINVAL, "use uint32"},
		{"size_t read as bool", func() error { _, err := jemalloc.Mallctl[bool](a, "arenas.page"); return err },
			jemalloc.ErrMallctlValue, syscall.EINVAL, "8 byte(s) wide"},
		{"ssize_t written as uint32", func() error { return jemalloc.SetMallctl(a, decay, uint32(5)) },
			jemalloc.ErrMallctlValue, syscall.EINVAL, "8 byte(s) wide"},
		{"value not one of the choices", func() error { return jemalloc.SetMallctl(a, dss, "bogus") },
			jemalloc.ErrMallctlValue, syscall.EINVAL, "refused the value"},
		{"value out of range", func() error { return jemalloc.SetMallctl(a, decay, int64(-7)) },
			jemalloc.ErrMallctl, syscall.EFAULT, "out of range"},
		{"write to read-only", func() error { return jemalloc.SetMallctl(a, "arenas.page", uint64(1)) },
			jemalloc.ErrMallctlAccess, syscall.EPERM, "read-only"},
		{"read of an action", func() error { _, err := jemalloc.Mallctl[uint64](a, "thread.tcache.flush"); return err },
			jemalloc.ErrMallctlAccess, syscall.EPERM, "MallctlDo"},
		{"number read as a string", func() error { _, err := jemalloc.Mallctl[string](a, "arenas.page"); return err },
			jemalloc.ErrMallctlValue, syscall.EINVAL, "not a string"},
		{"number written as a string", func() error { return jemalloc.SetMallctl(a, decay, "1000") },
			jemalloc.ErrMallctlValue, syscall.EINVAL, "not a string"},
		{"string read as a number", func() error { _, err := jemalloc.Mallctl[uint64](a, "version"); return err },
			jemalloc.ErrMallctlValue, syscall.EINVAL, "use string"},
		{"extent hooks", func() error { return jemalloc.SetMallctl(a, "arena.0.extent_hooks", uint64(1)) },
			jemalloc.ErrMallctlValue, syscall.EINVAL, "pointer to C structures"},
		{"arenas.create with a value", func() error { return jemalloc.SetMallctl(a, "arenas.create", uint64(1)) },
			jemalloc.ErrMallctlValue, syscall.EINVAL, "pointer to C structures"},
		{"experimental hooks", func() error { return jemalloc.SetMallctl(a, "experimental.hooks.install", uint64(1)) },
			jemalloc.ErrMallctlValue, syscall.EINVAL, "pointer to C structures"},
		{"action read with a value", func() error { _, err := jemalloc.Mallctl[uint64](a, "arenas.create"); return err },
			jemalloc.ErrMallctlValue, syscall.EINVAL, "refused the value"},
		{"empty name", func() error { _, err := jemalloc.Mallctl[uint64](a, ""); return err },
			jemalloc.ErrUnknownMallctl, syscall.ENOENT, "dot-separated"},
		{"NUL in name", func() error { _, err := jemalloc.Mallctl[uint64](a, "stats.allocated\x00x"); return err },
			jemalloc.ErrUnknownMallctl, syscall.ENOENT, "no NUL"},
	}
	for _, c := range cases {
		err := c.call()
		var me *jemalloc.MallctlError
		if !errors.Is(err, c.sentinel) || !errors.Is(err, c.errno) || !errors.As(err, &me) {
			t.Errorf("%s: err = %v; want %v and %v", c.name, err, c.sentinel, c.errno)
			continue
		}
		if !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), fmt.Sprintf("%q", me.Name)) {
			t.Errorf("%s: error %q does not name the mallctl or say %q", c.name, err, c.says)
		}
	}
}

// TestInfo checks that Info is jemalloc's own report, whole, and fresh on
// each call (not appended to the last one), also when two goroutines ask
// at once.
func TestInfo(t *testing.T) {
	a := open(t)
	const begin, end = "___ Begin jemalloc statistics ___", "--- End jemalloc statistics ---"
	check := func(text string, err error) {
		if err != nil {
			t.Error(err)
			return
		}
		if strings.Count(text, begin) != 1 || strings.Count(text, end) != 1 || !strings.Contains(text, "Version:") {
			t.Errorf("Info is not one whole jemalloc report (%d bytes):\n%.300s", len(text), text)
		}
	}
	check(a.Info())
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(a.Info())
	}()
	check(a.Info())
	<-done
}
