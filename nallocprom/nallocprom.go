// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package nallocprom is a Prometheus collector of nalloc's metrics: the
// Stats of each allocator given to it, and the counts of those wrapped in
// a nalloc.Counting, as nalloc.AppendMetrics names them, prefixed nalloc_
// and labelled with the allocator's name:
//
//	nalloc_allocated_bytes{allocator="jemalloc"} 1.048576e+06
//	nalloc_allocations_total{allocator="cache"} 5123
//
// WithGCPacer adds the GC pacer's state (nalloc.GCPacer.AppendMetrics),
// which describes the process rather than an allocator, and so has no
// label:
//
//	nalloc_gcpacer_off_heap_bytes 1.073741824e+09
//	nalloc_gcpacer_gogc_percent 2533
//
// It follows client_golang's conventions: base units in the name (bytes;
// GOGC in percent, as the Go collector's go_gc_gogc_percent; durations,
// which nalloc counts in whole nanoseconds, _nanoseconds_total, in
// seconds, _seconds_total), counters
// ending in _total, one label to tell the allocators apart, and no
// registration of its own; the program registers the Collector where it
// wants it:
//
//	c, err := nallocprom.NewCollector(
//		nallocprom.WithAllocator("jemalloc", je),
//		nallocprom.WithAllocator("cache", counted),
//		nallocprom.WithGCPacer(pacer),
//	)
//	prometheus.MustRegister(c)
//
// It is a module of its own (github.com/nalloc/nalloc/nallocprom), so that
// client_golang reaches only the programs that import it.
package nallocprom

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nalloc/nalloc"
	"github.com/prometheus/client_golang/prometheus"
)

// Namespace is the prefix of every metric name.
const Namespace = "nalloc"

// AllocatorLabel is the label that carries the name given to
// WithAllocator.
const AllocatorLabel = "allocator"

// ErrConfig is wrapped by NewCollector's errors: an option that cannot be
// used as given.
var ErrConfig = errors.New("nallocprom: invalid configuration")

// Collector is a prometheus.Collector of nalloc's metrics, read afresh at
// each scrape. Put every allocator in one Collector: a second Collector
// describing the same metrics is refused by a registry's Register.
//
// It is safe for concurrent use (a registry may collect from several
// goroutines) if its allocators are: the native backends and "go" are, a
// bump arena is not. Use NewCollector; the zero value is not usable.
type Collector struct {
	sources []source
	descs   map[string]*prometheus.Desc // by nalloc.Metric.Name
	kinds   map[string]prometheus.ValueType
	scales  map[string]float64 // what a value is multiplied by: 1, or 1e-9 for nanoseconds
	order   []string           // descs' keys in the order first seen, for Describe
}

// source is one thing the Collector reads: the names and values of its
// labels (an allocator's; none for a process-wide source, the GC pacer),
// and how to read its metrics.
type source struct {
	labelNames, labels []string
	read               func([]nalloc.Metric) ([]nalloc.Metric, error)
}

// Option configures a Collector in NewCollector.
type Option func(*config) error

type config struct {
	sources []source
	names   map[string]bool
	pacer   bool // WithGCPacer was given
}

// WithAllocator adds an allocator under a name, the value of its
// allocator label. The allocator must stay usable while the Collector is
// registered: unregister it before destroying a scoped heap or arena.
func WithAllocator(name string, a nalloc.Allocator) Option {
	return func(c *config) error {
		switch {
		case name == "":
			return fmt.Errorf("%w: WithAllocator with an empty name", ErrConfig)
		case a == nil:
			return fmt.Errorf("%w: WithAllocator(%q) with a nil allocator", ErrConfig, name)
		case c.names[name]:
			return fmt.Errorf("%w: two allocators named %q; each needs a name of its own", ErrConfig, name)
		}
		c.names[name] = true
		c.sources = append(c.sources, source{
			labelNames: []string{AllocatorLabel},
			labels:     []string{name},
			read: func(dst []nalloc.Metric) ([]nalloc.Metric, error) {
				return nalloc.AppendMetrics(dst, a)
			},
		})
		return nil
	}
}

// WithGCPacer adds the metrics of the GC pacer p, unlabelled. They show p
// for as long as the Collector is registered, running or stopped
// (nalloc_gcpacer_running says which): a program that stops its pacer and
// starts another registers a new Collector for it in place of this one.
// One Collector takes one pacer (there is one per process).
func WithGCPacer(p *nalloc.GCPacer) Option {
	return func(c *config) error {
		switch {
		case p == nil:
			return fmt.Errorf("%w: WithGCPacer with a nil pacer; give it the one StartGCPacer returned", ErrConfig)
		case c.pacer:
			return fmt.Errorf("%w: WithGCPacer given twice; a process has one pacer", ErrConfig)
		}
		c.pacer = true
		c.sources = append(c.sources, source{
			read: func(dst []nalloc.Metric) ([]nalloc.Metric, error) {
				return p.AppendMetrics(dst), nil
			},
		})
		return nil
	}
}

// NewCollector returns a Collector of the metrics of what the options
// add. It reads each source's metrics once, to learn which it has (for an
// allocator that depends on its type only; see nalloc.AppendMetrics). An
// option that cannot be used gets an error wrapping ErrConfig.
func NewCollector(opts ...Option) (*Collector, error) {
	cfg := config{names: map[string]bool{}}
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	c := &Collector{
		sources: cfg.sources,
		descs:   map[string]*prometheus.Desc{},
		kinds:   map[string]prometheus.ValueType{},
		scales:  map[string]float64{},
	}
	for _, s := range c.sources {
		// The names come back even if reading fails: the set depends on
		// the type alone.
		ms, _ := s.read(nil)
		for _, m := range ms {
			if c.descs[m.Name] != nil {
				continue
			}
			name, scale := m.Name, 1.0
			if base, ok := strings.CutSuffix(name, "_nanoseconds_total"); ok {
				name, scale = base+"_seconds_total", 1e-9 // Prometheus's base unit
			}
			c.descs[m.Name] = prometheus.NewDesc(Namespace+"_"+name, m.Help, s.labelNames, nil)
			c.scales[m.Name] = scale
			c.kinds[m.Name] = valueType(m.Kind)
			c.order = append(c.order, m.Name)
		}
	}
	return c, nil
}

func valueType(k nalloc.MetricKind) prometheus.ValueType {
	if k == nalloc.Counter {
		return prometheus.CounterValue
	}
	return prometheus.GaugeValue
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, name := range c.order {
		ch <- c.descs[name]
	}
}

// Collect implements prometheus.Collector. An allocator whose metrics
// cannot be read (its Stats failed) contributes one invalid metric with
// the error, which makes the registry's Gather fail with it, and none of
// its figures: a gap in its series for that scrape rather than zeros.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	var buf [32]nalloc.Metric
	for _, s := range c.sources {
		ms, err := s.read(buf[:0])
		if err != nil {
			for i, name := range s.labelNames {
				err = fmt.Errorf("%s=%q: %w", name, s.labels[i], err)
			}
			err = fmt.Errorf("nallocprom: %w", err)
			ch <- prometheus.NewInvalidMetric(prometheus.NewInvalidDesc(err), err)
			continue
		}
		for _, m := range ms {
			// Every name has its Desc: the set of metrics depends on the
			// source's type alone, and NewCollector read it.
			ch <- prometheus.MustNewConstMetric(c.descs[m.Name], c.kinds[m.Name], float64(m.Value)*c.scales[m.Name], s.labels...)
		}
	}
}

var _ prometheus.Collector = (*Collector)(nil)
