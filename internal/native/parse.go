// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package native

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// units are the size suffixes ParseInt accepts, all powers of 1024 (an
// allocator's sizes are), longest first so that "KiB" is not read as "B".
var units = []struct {
	suffix string
	shift  uint
}{
	{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40},
	{"KB", 10}, {"MB", 20}, {"GB", 30}, {"TB", 40},
	{"K", 10}, {"M", 20}, {"G", 30}, {"T", 40},
	{"k", 10}, {"m", 20}, {"g", 30}, {"t", 40},
	{"B", 0},
}

// ParseInt reads the value of a numeric allocator setting, as Tuner.Tune
// gets it: an integer in Go's syntax (-1, 4194304, 0x400000), optionally
// followed by a size unit, which counts in powers of 1024 (4MiB, 4M and 4MB
// are all 4194304; 128k is 131072), or true or false, which are 1 and 0
// (C's booleans, for settings that are one). Anything else is
// strconv.ErrSyntax, and a value past 64 bits strconv.ErrRange.
func ParseInt(s string) (int64, error) {
	num, shift := strings.TrimSpace(s), uint(0)
	switch strings.ToLower(num) {
	case "true":
		return 1, nil
	case "false":
		return 0, nil
	}
	if v, err := strconv.ParseInt(num, 0, 64); err == nil {
		return v, nil // a plain number, 0xB included
	}
	for _, u := range units {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok && rest != "" {
			num, shift = strings.TrimSpace(rest), u.shift
			break
		}
	}
	v, err := strconv.ParseInt(num, 0, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, strconv.ErrRange
		}
		return 0, strconv.ErrSyntax
	}
	if v > math.MaxInt64>>shift || v < math.MinInt64>>shift {
		return 0, strconv.ErrRange
	}
	return v << shift, nil
}

// Tune is every backend's nalloc.Tuner.Tune: key finds the library's
// setting for name (its error wraps the backend's sentinel for unknown
// names), ParseInt reads value, and set applies it. A value that does
// not parse gives "backend: name=value: " and ParseInt's error.
func Tune[K any](backend, name, value string, key func(name string) (K, error), set func(k K, v int64) error) error {
	k, err := key(name)
	if err != nil {
		return err
	}
	v, err := ParseInt(value)
	if err != nil {
		return fmt.Errorf("%s: %s=%s: %w", backend, name, value, err)
	}
	return set(k, v)
}
