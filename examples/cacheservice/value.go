// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"encoding/binary"
	"fmt"
)

// The entries that the server's fill and the load test write: key i is
// keyOf(i), and its value at version v is valueLen bytes that say i and v
// and are a pattern of both, so that a client can check any value it reads
// without knowing which write it came from.
const valueLen = 500

func keyOf(i uint64) string { return fmt.Sprintf("key:%010d", i) }

// appendValue appends the value of key i at version v to dst.
func appendValue(dst []byte, i, v uint64) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, i)
	dst = binary.LittleEndian.AppendUint64(dst, v)
	for j := uint64(16); j < valueLen; j++ {
		dst = append(dst, pattern(i, v, j))
	}
	return dst
}

func pattern(i, v, j uint64) byte { return byte(j*0x9e + i*31 + v*7) }

// checkValue returns the version of b, a value read for key i, or an
// error if b is not a value appendValue wrote for i.
func checkValue(b []byte, i uint64) (uint64, error) {
	if len(b) != valueLen {
		return 0, fmt.Errorf("value of %s: %d bytes, want %d", keyOf(i), len(b), valueLen)
	}
	if got := binary.LittleEndian.Uint64(b); got != i {
		return 0, fmt.Errorf("value of %s: it is key %d's", keyOf(i), got)
	}
	v := binary.LittleEndian.Uint64(b[8:])
	for j := uint64(16); j < valueLen; j++ {
		if b[j] != pattern(i, v, j) {
			return 0, fmt.Errorf("value of %s version %d: byte %d = %#x, want %#x", keyOf(i), v, j, b[j], pattern(i, v, j))
		}
	}
	return v, nil
}
