// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package metric

import (
	"fmt"
	"strings"
	"testing"
)

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		id   string
		v    float64
		want string
	}{
		{NsPerPair, 12.345, "12.3"},
		{NsPerPair, 0.966, "0.966"},
		{NsPerPair, 9.996, "10.0"},
		{NsPerPair, 1234.5, "1234"},
		{PeakRSS, 12 << 20, "12.0 MiB"},
		{PeakRSS, 1023, "1023 B"},
		{GCCPU, 0.0123, "12.3 ms"},
		{GCP99, 0.000004, "4.00 µs"},
		{PairsPerSec, 12.5e6, "12.5 M/s"},
		{GCCycles, 17, "17"},
		{Scaling, 1.956, "1.96x"},
	} {
		if got := ByID(tc.id).Format(tc.v); got != tc.want {
			t.Errorf("%s.format(%v) = %q, want %q", tc.id, tc.v, got, tc.want)
		}
	}
}

// TestMetricsComplete: every metric has its benchstat unit (Define
// refuses one without, so that none is labelled bytes by default).
func TestMetricsComplete(t *testing.T) {
	for id, m := range byID {
		if m.BenchUnit == "" || strings.ContainsAny(m.BenchUnit, " \t") {
			t.Errorf("%s: benchstat unit %q", id, m.BenchUnit)
		}
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Errorf("Define accepted a metric without a benchstat unit")
			}
		}()
		Define(Metric{ID: "test_no_unit", Unit: "B"})
	}()
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"4096": 4096, "64MiB": 64 << 20, "64 mib": 64 << 20, "1.5GiB": 3 << 29, "1GB": 1e9,
		"2K": 2048, "1t": 1 << 40, "7B": 7,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "1.2.3MiB", "-5MiB", "1 furlong", "1e30TiB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q): no error", in)
		}
	}
}

// FuzzParseSize checks parseSize on any text: it never panics, never gives
// a negative size, and names the text it refuses; and a number written
// with a unit reads back as that number times the unit.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"64", "64KiB", "1.5GiB", "2mb", " 7 k ", "-1", "1e3", "MiB", "99999999999TiB", ""} {
		f.Add(s, uint32(1), uint8(0))
	}
	units := []string{"", "B", "KiB", "MiB", "GiB", "KB", "MB", "k", "M"}
	f.Fuzz(func(t *testing.T, s string, n uint32, u uint8) {
		v, err := ParseSize(s)
		if err == nil && v < 0 {
			t.Fatalf("ParseSize(%q) = %d", s, v)
		}
		if err != nil && !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) {
			t.Fatalf("ParseSize(%q): the error %q does not name the input", s, err)
		}
		unit := units[int(u)%len(units)]
		text := fmt.Sprintf("%d%s", n, unit)
		v, err = ParseSize(text)
		if want := int64(float64(n) * sizeUnits[strings.ToLower(unit)]); err != nil || v != want {
			t.Fatalf("ParseSize(%q) = %d, %v; want %d", text, v, err, want)
		}
	})
}
