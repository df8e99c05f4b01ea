// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package native

import (
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
// (C's booleans, for settings that are one).
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
		return 0, fmt.Errorf("%q is not a number (write 4194304, 4MiB, 128k, -1, true or false)", s)
	}
	if v > math.MaxInt64>>shift || v < math.MinInt64>>shift {
		return 0, fmt.Errorf("%q does not fit in 64 bits", s)
	}
	return v << shift, nil
}
