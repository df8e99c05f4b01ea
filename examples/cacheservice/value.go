// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// The entries that the server's fill and the load test write. Key i is
// keyOf(i), and its value at version v is valueLen(i, v) bytes that say
// i and v and are a pattern of both, so that a client can check any
// value it reads without knowing which write it came from.
//
// The lengths are those of a service's cache rather than a fixed record:
//
//   - Keys are 8 to 64 bytes: a namespace prefix of 2 to 28 bytes
//     ("u:", "session:", "feed:timeline:v2:", ...) and a decimal ID
//     padded to 6 to 36 digits, chosen by i.
//   - Values are skewed small with a long tail: 60% are 32 to 255 bytes
//     (counters, flags, small JSON objects), 30% 256 B to 1 KiB (a user
//     record, a session), 10% 1 to 4 KiB (a rendered fragment, a list),
//     each uniform in its band, so the mean is about 540 bytes and the
//     median about 200. A PUT writes a new version whose length varies
//     by up to 1/8 from the key's base length, as a value rewritten by
//     an update usually does.
//
// The shape is the one the published studies of production caches
// report (keys of tens of bytes; most values under 1 KiB, a tail of
// several KiB): Facebook's memcached pools (Atikoglu et al., "Workload
// Analysis of a Large-Scale Key-Value Store", SIGMETRICS 2012) and
// Twitter's cache clusters (Yang et al., "A large scale analysis of
// hundreds of in-memory cache clusters at Twitter", OSDI 2020). A fixed
// length would flatter every store that rounds entries to a size class
// or a slot.
const (
	// MaxKey and MaxValue are what the server accepts; the load writes
	// at most 64 and 4608 bytes.
	MaxKey   = 250
	MaxValue = 8 << 10
	// headerLen is the bytes of a value that name its key and version.
	headerLen = 16
)

var prefixes = [...]string{"u:", "kv:", "user:", "session:", "profile:v3:", "feed:timeline:v2:", "cart:", "product:detail:en-gb:page:"}

// mix is a 64-bit finaliser (splitmix64's), to draw lengths from i.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// keyOf returns key i, of 8 to 62 bytes.
func keyOf(i uint64) string {
	h := mix(i)
	p := prefixes[h%uint64(len(prefixes))]
	digits := 6 + int(h>>8%31)
	b := make([]byte, 0, 64)
	b = append(b, p...)
	s := strconv.FormatUint(i, 10)
	for range digits - len(s) {
		b = append(b, '0')
	}
	return string(append(b, s...))
}

// baseLen is the length of key i's value at version 0.
func baseLen(i uint64) int {
	h := mix(i ^ 0x5eed)
	switch r := h % 10; {
	case r < 6:
		return 32 + int(h>>8%224)
	case r < 9:
		return 256 + int(h>>8%768)
	default:
		return 1024 + int(h>>8%3072)
	}
}

// valueLen is the length of key i's value at version v: its base length
// at version 0, and within 1/8 of it at other versions.
func valueLen(i, v uint64) int {
	n := baseLen(i)
	if v == 0 {
		return n
	}
	d := n / 8
	return max(headerLen, n-d+int(mix(i^v)%uint64(2*d+1)))
}

// appendValue appends the value of key i at version v to dst.
func appendValue(dst []byte, i, v uint64) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, i)
	dst = binary.LittleEndian.AppendUint64(dst, v)
	n := valueLen(i, v)
	for j := uint64(headerLen); j < uint64(n); j++ {
		dst = append(dst, pattern(i, v, j))
	}
	return dst
}

func pattern(i, v, j uint64) byte { return byte(j*0x9e + i*31 + v*7) }

// checkValue returns the version of b, a value read for key i, or an
// error if b is not a value appendValue wrote for i.
func checkValue(b []byte, i uint64) (uint64, error) {
	if len(b) < headerLen {
		return 0, fmt.Errorf("value of %s: %d bytes", keyOf(i), len(b))
	}
	if got := binary.LittleEndian.Uint64(b); got != i {
		return 0, fmt.Errorf("value of %s: it is key %d's", keyOf(i), got)
	}
	v := binary.LittleEndian.Uint64(b[8:])
	if n := valueLen(i, v); len(b) != n {
		return 0, fmt.Errorf("value of %s version %d: %d bytes, want %d", keyOf(i), v, len(b), n)
	}
	for j := uint64(headerLen); j < uint64(len(b)); j++ {
		if b[j] != pattern(i, v, j) {
			return 0, fmt.Errorf("value of %s version %d: byte %d = %#x, want %#x", keyOf(i), v, j, b[j], pattern(i, v, j))
		}
	}
	return v, nil
}

// payloadOf returns the bytes of keys and values of the first n entries
// at version 0: what the fill stores.
func payloadOf(n int) uint64 {
	var sum uint64
	for i := range uint64(n) {
		sum += uint64(len(keyOf(i)) + baseLen(i))
	}
	return sum
}
