// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nalloc_test

import (
	"fmt"
	"log"

	"github.com/nalloc/nalloc"
	_ "github.com/nalloc/nalloc/glibc" // registers "glibc"
)

// A BytesMap keeps string keys and byte-string values of any length in
// allocator memory; Get appends a copy of the value to the caller's
// buffer, which is reused from call to call.
func ExampleBytesMap() {
	a, err := nalloc.Open("glibc")
	if err != nil {
		log.Fatal(err)
	}
	m, err := nalloc.NewBytesMap(a, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close() // gives every block back

	m.Put("user:1", []byte(`{"name":"Ada"}`))
	m.Put("user:2", []byte(`{"name":"Grace"}`))
	m.Put("user:1", []byte(`{"name":"Ada Lovelace"}`)) // replaces

	buf := make([]byte, 0, 64)
	buf, ok := m.Get("user:1", buf[:0])
	fmt.Println(string(buf), ok)
	_, ok = m.Get("user:3", buf[:0])
	fmt.Println(ok)

	m.Delete("user:2")
	fmt.Println(m.Len(), "entry,", m.PayloadBytes(), "bytes of keys and values")
	// Output:
	// {"name":"Ada Lovelace"} true
	// false
	// 1 entry, 29 bytes of keys and values
}
