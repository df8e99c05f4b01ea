// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package shootout

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/nalloc/nalloc/bench/internal/report"
	"golang.org/x/term"
)

// progress keeps one status line on stderr while the shoot-out runs,
// rewritten in place, and only when stderr is a terminal: a log file or a
// CI transcript gets no carriage-return noise.
type progress struct {
	w     io.Writer
	fd    int
	on    bool
	start time.Time
	shown bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, start: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.on, p.fd = true, int(f.Fd())
	}
	return p
}

// show replaces the status line with msg, after the time so far.
func (p *progress) show(msg string) {
	if !p.on {
		return
	}
	line := fmt.Sprintf("bench %s  %s", report.FormatDuration(time.Since(p.start).Seconds()), msg)
	if width, _, err := term.GetSize(p.fd); err == nil && width > 1 {
		if r := []rune(line); len(r) > width-1 {
			line = string(r[:width-1])
		}
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s", line)
	p.shown = true
}

// done erases the status line.
func (p *progress) done() {
	if p.on && p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}
