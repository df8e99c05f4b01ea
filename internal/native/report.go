// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package native

import (
	"fmt"
	"strings"
	"sync"
)

// The write callbacks of Report, made once each (purego's table of
// callbacks is fixed in size), and the text they append to. Reports are
// written one at a time.
var report struct {
	once                sync.Once
	err                 error
	msgFirst, msgSecond uintptr // void (*)(const char *msg, void *arg), void (*)(void *arg, const char *msg)
	mu                  sync.Mutex
	text                strings.Builder
}

// Report returns the text report a C function writes through a callback
// it is given (mimalloc's mi_stats_print_out, jemalloc's
// malloc_stats_print). call makes the C call, through CallWithCallback,
// with cb as the callback: a function that takes the message first,
// void cb(const char *msg, void *arg), or, with argFirst, second,
// void cb(void *arg, const char *msg). Reports are serialised.
func Report(argFirst bool, call func(cb uintptr)) (string, error) {
	report.once.Do(func() {
		var err error
		if report.msgFirst, err = NewCallback(func(msg, _ uintptr) { report.text.WriteString(GoString(msg)) }); err == nil {
			report.msgSecond, err = NewCallback(func(_, msg uintptr) { report.text.WriteString(GoString(msg)) })
		}
		if err != nil {
			report.err = fmt.Errorf("native: text reports: %w", err)
		}
	})
	if report.err != nil {
		return "", report.err
	}
	report.mu.Lock()
	defer report.mu.Unlock()
	report.text.Reset()
	cb := report.msgFirst
	if argFirst {
		cb = report.msgSecond
	}
	call(cb)
	return report.text.String(), nil
}
