// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package nallocvar publishes nalloc's metrics through the standard
// library's expvar, so that they appear on /debug/vars beside the Go
// runtime's memstats:
//
//	nallocvar.Publish("jemalloc", a)
//
// adds one map under the top-level variable "nalloc", read afresh each
// time the variables are served:
//
//	"nalloc": {
//		"jemalloc": {"allocated_bytes": 1048576, "active_bytes": 1114112, ...}
//	}
//
// The keys are nalloc.AppendMetrics's metric names, the same that the
// nallocprom module gives Prometheus (there prefixed nalloc_): the six
// Stats figures for an allocator that reports them, and a
// nalloc.Counting's counts for one wrapped in it. If reading fails (a
// backend's Stats call), the map holds the figures as 0 and an "error"
// key with the reason.
//
// PublishGCPacer adds the GC pacer's state beside them, as the map
// "gcpacer" (GCPacerName), keyed by the names of
// nalloc.GCPacer.AppendMetrics:
//
//	"nalloc": {
//		"gcpacer": {"gcpacer_running": 1, "gcpacer_off_heap_bytes": 1073741824, "gcpacer_gogc_percent": 2533, ...}
//	}
//
// It is a package of its own because expvar registers its handler on
// http.DefaultServeMux and links in net/http: a program that does not
// import nallocvar pays for neither.
package nallocvar

import (
	"encoding/json"
	"errors"
	"expvar"
	"fmt"
	"strconv"
	"sync"

	"github.com/nalloc/nalloc"
)

// Var is the name of the top-level expvar variable under which Publish
// puts its maps.
const Var = "nalloc"

// Errors.
var (
	// ErrPublished: Publish was given a name already published under Var.
	ErrPublished = errors.New("nallocvar: name already published")
	// ErrVarTaken: the top-level name Var is taken by a variable that is
	// not an *expvar.Map (the program published its own "nalloc").
	ErrVarTaken = errors.New("nallocvar: the expvar name " + strconv.Quote(Var) + " is taken")
	// ErrInvalid: Publish was given an empty name, the name reserved for
	// the GC pacer (GCPacerName), or a nil allocator; PublishGCPacer a nil
	// pacer (publish the one StartGCPacer returned).
	ErrInvalid = errors.New("nallocvar: invalid argument")
)

var (
	mu  sync.Mutex // serialises the creation of top and changes to it
	top *expvar.Map
)

// Publish publishes a's metrics under Var as name. It returns an error
// wrapping ErrInvalid for an empty name, GCPacerName or a nil a,
// ErrPublished if name is taken (Unpublish frees it), or ErrVarTaken if
// the program published a variable of its own as Var.
//
// The map is read each time expvar's variables are served, from the
// goroutine that serves them, so a must be safe for concurrent use (the
// native backends and "go" are; a bump arena is not) and must stay usable
// while it is published: Unpublish a scoped heap or arena before
// destroying it.
func Publish(name string, a nalloc.Allocator) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: Publish with an empty name", ErrInvalid)
	case name == GCPacerName:
		return fmt.Errorf("%w: Publish(%q): the name is PublishGCPacer's", ErrInvalid, name)
	case a == nil:
		return fmt.Errorf("%w: Publish(%q) with a nil allocator", ErrInvalid, name)
	}
	return publish(name, func(dst []nalloc.Metric) ([]nalloc.Metric, error) {
		return nalloc.AppendMetrics(dst, a)
	})
}

// GCPacerName is the name under Var of the map PublishGCPacer publishes.
const GCPacerName = "gcpacer"

// PublishGCPacer publishes p's metrics under Var as GCPacerName. It
// returns an error wrapping ErrInvalid for a nil p, ErrPublished if an
// earlier PublishGCPacer took the name, or ErrVarTaken as Publish does.
//
// The map shows p for as long as it is published, running or stopped
// (gcpacer_running says which); a program that stops its pacer and starts
// another publishes the new one after Unpublish(GCPacerName).
func PublishGCPacer(p *nalloc.GCPacer) error {
	if p == nil {
		return fmt.Errorf("%w: PublishGCPacer with a nil pacer", ErrInvalid)
	}
	return publish(GCPacerName, func(dst []nalloc.Metric) ([]nalloc.Metric, error) {
		return p.AppendMetrics(dst), nil
	})
}

// Unpublish removes the map published as name, if there is one.
func Unpublish(name string) {
	mu.Lock()
	defer mu.Unlock()
	if top != nil {
		top.Delete(name)
	}
}

// publish sets name under Var to a variable that reports read's metrics.
func publish(name string, read func([]nalloc.Metric) ([]nalloc.Metric, error)) error {
	mu.Lock()
	defer mu.Unlock()
	if top == nil {
		switch v := expvar.Get(Var).(type) {
		case nil:
			top = expvar.NewMap(Var)
		case *expvar.Map:
			top = v // ours, from before a reset in tests, or one the program made for us
		default:
			return fmt.Errorf("%w by a %T; nallocvar needs it for its maps", ErrVarTaken, v)
		}
	}
	if top.Get(name) != nil {
		return fmt.Errorf("%w: %q", ErrPublished, name)
	}
	top.Set(name, metricsVar(read))
	return nil
}

// metricsVar is an expvar.Var that reads its metrics when it is shown.
type metricsVar func([]nalloc.Metric) ([]nalloc.Metric, error)

// String implements expvar.Var: a JSON object of the metrics, in their
// order, with "error" last if reading failed.
func (read metricsVar) String() string {
	var buf [32]nalloc.Metric
	ms, err := read(buf[:0])
	b := []byte{'{'}
	for i, m := range ms {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendQuote(b, m.Name) // metric names are plain ASCII, the same in JSON
		b = append(b, ": "...)
		b = strconv.AppendInt(b, m.Value, 10)
	}
	if err != nil {
		if len(ms) > 0 {
			b = append(b, ", "...)
		}
		msg, _ := json.Marshal(err.Error()) // a string always marshals
		b = append(append(b, `"error": `...), msg...)
	}
	return string(append(b, '}'))
}
