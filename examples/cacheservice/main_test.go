// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"testing"
)

// TestMain is the server when load starts this test binary as one (it
// starts os.Executable with childEnv set), and runs the tests otherwise;
// in both cases after start, as main does.
func TestMain(m *testing.M) {
	if err := start(); err != nil {
		fmt.Fprintln(os.Stderr, "cacheservice test:", err)
	}
	if os.Getenv(childEnv) == "1" {
		if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "cacheservice test child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
