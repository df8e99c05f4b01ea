// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package mimalloc

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nalloc/nalloc/internal/native"
)

// Option is a mimalloc option, a value of the C enum mi_option_t.
//
// The names and numbers are those of mimalloc.h in mimalloc 2.0.9, the
// version Debian 12 ships; the library agrees (MIMALLOC_VERBOSE=1 lists
// them in this order, and TestOptionNames checks it). mimalloc renumbers
// and renames options between minor versions (2.1 replaced the decommit
// options by purge ones), so GetOption and SetOption refuse to run on a
// library outside the 2.0 line rather than change the wrong option.
type Option int32

// The options of mimalloc 2.0.9. Each can also be set before the process
// starts with the environment variable MIMALLOC_ followed by its name in
// capitals (MIMALLOC_DECOMMIT_DELAY=0); the library reads those when it is
// loaded. Some are read only then (the reserve and large page options):
// setting them later has no effect.
const (
	ShowErrors                  Option = iota // print error messages to stderr
	ShowStats                                 // print statistics at exit (never runs in Go; see the package doc)
	Verbose                                   // print verbose messages
	EagerCommit                               // commit segments when they are reserved
	DeprecatedEagerRegionCommit               // no effect (kept for binary compatibility)
	DeprecatedResetDecommits                  // no effect
	LargeOSPages                              // use 2 MiB OS pages
	ReserveHugeOSPages                        // reserve N 1 GiB pages at start-up
	ReserveHugeOSPagesAt                      // the NUMA node for them (-1: any)
	ReserveOSMemory                           // reserve this many bytes (in KiB) at start-up
	DeprecatedSegmentCache                    // no effect
	PageReset                                 // reset (MADV_DONTNEED) free pages
	AbandonedPageDecommit                     // decommit free pages of abandoned segments
	DeprecatedSegmentReset                    // no effect
	EagerCommitDelay                          // segments reserved before eager commit starts
	DecommitDelay                             // milliseconds before free pages are decommitted
	UseNUMANodes                              // use at most N NUMA nodes (0: all)
	LimitOSAlloc                              // 1: never allocate from the OS, only from reserved memory
	OSTag                                     // the OS memory tag (macOS only)
	MaxErrors                                 // how many error messages to print at most
	MaxWarnings                               // how many warnings to print at most
	MaxSegmentReclaim                         // abandoned segments reclaimed per try
	AllowDecommit                             // decommit memory at all
	SegmentDecommitDelay                      // milliseconds before free segments are decommitted
	DecommitExtendDelay                       // milliseconds a decommit is postponed when more is freed
	DestroyOnExit                             // free all memory at process exit (never runs in Go)
	numOptions
)

// optionNames are mimalloc 2.0.9's names, in enum order: the names of its
// environment variables without MIMALLOC_, in lower case.
var optionNames = [numOptions]string{
	"show_errors", "show_stats", "verbose", "eager_commit",
	"deprecated_eager_region_commit", "deprecated_reset_decommits",
	"large_os_pages", "reserve_huge_os_pages", "reserve_huge_os_pages_at",
	"reserve_os_memory", "deprecated_segment_cache", "page_reset",
	"abandoned_page_decommit", "deprecated_segment_reset", "eager_commit_delay",
	"decommit_delay", "use_numa_nodes", "limit_os_alloc", "os_tag", "max_errors",
	"max_warnings", "max_segment_reclaim", "allow_decommit",
	"segment_decommit_delay", "decommit_extend_delay", "destroy_on_exit",
}

// String returns the option's mimalloc name, decommit_delay for example.
func (o Option) String() string {
	if o >= 0 && o < numOptions {
		return optionNames[o]
	}
	return fmt.Sprintf("Option(%d)", int32(o))
}

// Option errors.
var (
	// ErrUnknownOption: ParseOption was given a name mimalloc 2.0.9 does
	// not have; the error lists those it has.
	ErrUnknownOption = errors.New("mimalloc: unknown option")
	// ErrOptionTable: the library is not a 2.0.x mimalloc, whose option
	// numbers this package knows.
	ErrOptionTable = errors.New("mimalloc: option numbers unknown for this version")
)

// ParseOption returns the option with the given name, in any case, as
// mimalloc writes it (decommit_delay), as its C enum value
// (mi_option_decommit_delay) or as its environment variable
// (MIMALLOC_DECOMMIT_DELAY).
func ParseOption(name string) (Option, error) {
	n := strings.ToLower(name)
	n = strings.TrimPrefix(n, "mimalloc_")
	n = strings.TrimPrefix(n, "mi_option_")
	for o, known := range optionNames {
		if n == known {
			return Option(o), nil
		}
	}
	return 0, fmt.Errorf("%w %q (mimalloc 2.0.9 has: %s)", ErrUnknownOption, name,
		strings.Join(optionNames[:], ", "))
}

func (a *Allocator) checkOption(o Option) error {
	if o < 0 || o >= numOptions {
		return fmt.Errorf("%w %v", ErrUnknownOption, o)
	}
	if a.version < 200 || a.version >= 210 {
		return fmt.Errorf("%w: %s is mimalloc %s, and this package knows the options of 2.0.x",
			ErrOptionTable, a.Library(), a.Version())
	}
	return nil
}

// GetOption returns the option's current value (mi_option_get). Boolean
// options are 0 or 1.
func (a *Allocator) GetOption(o Option) (int64, error) {
	if err := a.checkOption(o); err != nil {
		return 0, err
	}
	// long mi_option_get(mi_option_t): a C long is 64 bits on LP64.
	return int64(native.Slow1(a.optionGet, uintptr(o))), nil
}

// SetOption sets the option for the whole process (mi_option_set). Options
// that mimalloc reads only at start-up take no effect; see Option.
func (a *Allocator) SetOption(o Option, value int64) error {
	if err := a.checkOption(o); err != nil {
		return err
	}
	native.Slow2(a.optionSet, uintptr(o), uintptr(value))
	return nil
}

// Tune implements nalloc.Tuner with SetOption: name is an option as
// ParseOption takes it (decommit_delay, MIMALLOC_DECOMMIT_DELAY), value a
// number with an optional unit (0, 4MiB); true and false set the boolean
// options to 1 and 0.
func (a *Allocator) Tune(name, value string) error {
	return native.Tune("mimalloc", name, value, ParseOption, a.SetOption)
}
