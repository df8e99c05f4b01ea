// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

// Package pprofenc writes profiles in pprof's format: profile.proto
// (github.com/google/pprof/proto/profile.proto), gzipped, as
// runtime/pprof writes Go's own. It encodes the protobuf by hand, as
// runtime/pprof does, so that the library needs no protobuf or pprof
// module: the messages it writes are a handful of varints and
// length-prefixed fields.
//
// Stacks are program counters from runtime.Callers, resolved with
// runtime.CallersFrames in the process that writes the profile: each
// distinct counter becomes one Location whose Lines are its frames,
// inlined ones first, and each distinct function one Function, so that
// the profile needs no binary to be read. There are no Mappings: the
// functions are already known, and pprof has nothing to symbolize.
package pprofenc

import (
	"compress/gzip"
	"io"
	"runtime"
)

// ValueType names what a value counts and its unit, as in "inuse_space"
// and "bytes".
type ValueType struct{ Type, Unit string }

// Label is a numeric label of a sample, as runtime/pprof's "bytes" label
// gives the size of the blocks of a heap sample.
type Label struct {
	Key  string
	Num  int64
	Unit string // "" for none
}

// Sample is one stack and its values, one per Profile.SampleTypes.
type Sample struct {
	Stack  []uintptr // return addresses from runtime.Callers, innermost first
	Values []int64
	Labels []Label
}

// Profile is what Write encodes.
type Profile struct {
	SampleTypes []ValueType
	PeriodType  ValueType
	Period      int64
	TimeNanos   int64
	Samples     []Sample
}

// Field numbers of profile.proto.
const (
	profileSampleType  = 1
	profileSample      = 2
	profileLocation    = 4
	profileFunction    = 5
	profileStringTable = 6
	profileTimeNanos   = 9
	profilePeriodType  = 11
	profilePeriod      = 12

	valueTypeType = 1
	valueTypeUnit = 2

	sampleLocationID = 1
	sampleValue      = 2
	sampleLabel      = 3

	labelKey     = 1
	labelNum     = 3
	labelNumUnit = 4

	locationID      = 1
	locationAddress = 3
	locationLine    = 4

	lineFunctionID = 1
	lineLine       = 2

	functionID         = 1
	functionName       = 2
	functionSystemName = 3
	functionFilename   = 4
)

// Write writes p to w, gzipped.
func Write(w io.Writer, p *Profile) error {
	e := encoder{strings: map[string]int64{"": 0}, stringList: []string{""},
		locations: map[uintptr]uint64{}, functions: map[funcKey]uint64{}}
	var msg, sub []byte

	for _, st := range p.SampleTypes {
		msg = bytesField(msg, profileSampleType, e.valueType(sub[:0], st))
	}
	for _, s := range p.Samples {
		ids := make([]uint64, len(s.Stack))
		for i, pc := range s.Stack {
			ids[i] = e.location(pc)
		}
		sub = sub[:0]
		sub = packedUints(sub, sampleLocationID, ids)
		vals := make([]uint64, len(s.Values))
		for i, v := range s.Values {
			vals[i] = uint64(v)
		}
		sub = packedUints(sub, sampleValue, vals)
		for _, l := range s.Labels {
			var lb []byte
			lb = e.stringField(lb, labelKey, l.Key)
			lb = varintField(lb, labelNum, uint64(l.Num))
			if l.Unit != "" {
				lb = e.stringField(lb, labelNumUnit, l.Unit)
			}
			sub = bytesField(sub, sampleLabel, lb)
		}
		msg = bytesField(msg, profileSample, sub)
	}
	msg = append(msg, e.locBuf...)
	msg = append(msg, e.funcBuf...)
	if p.TimeNanos != 0 {
		msg = varintField(msg, profileTimeNanos, uint64(p.TimeNanos))
	}
	msg = bytesField(msg, profilePeriodType, e.valueType(sub[:0], p.PeriodType))
	msg = varintField(msg, profilePeriod, uint64(p.Period))
	// The string table last: every string has been interned by now.
	for _, s := range e.stringList {
		msg = bytesField(msg, profileStringTable, []byte(s))
	}

	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return err
	}
	if _, err := zw.Write(msg); err != nil {
		return err
	}
	return zw.Close()
}

type funcKey struct{ name, file string }

type encoder struct {
	strings    map[string]int64
	stringList []string
	locations  map[uintptr]uint64
	functions  map[funcKey]uint64
	locBuf     []byte // the encoded Location fields of the Profile
	funcBuf    []byte // the encoded Function fields of the Profile
}

func (e *encoder) str(s string) int64 {
	if i, ok := e.strings[s]; ok {
		return i
	}
	i := int64(len(e.stringList))
	e.strings[s] = i
	e.stringList = append(e.stringList, s)
	return i
}

func (e *encoder) stringField(b []byte, field int, s string) []byte {
	return varintField(b, field, uint64(e.str(s)))
}

func (e *encoder) valueType(b []byte, vt ValueType) []byte {
	b = e.stringField(b, valueTypeType, vt.Type)
	return e.stringField(b, valueTypeUnit, vt.Unit)
}

// location returns the id of the Location of pc, encoding it (and the
// Functions of its frames) the first time.
func (e *encoder) location(pc uintptr) uint64 {
	if id, ok := e.locations[pc]; ok {
		return id
	}
	id := uint64(len(e.locations) + 1)
	e.locations[pc] = id
	var loc []byte
	loc = varintField(loc, locationID, id)
	loc = varintField(loc, locationAddress, uint64(pc))
	frames := runtime.CallersFrames([]uintptr{pc})
	for {
		f, more := frames.Next()
		name := f.Function
		if name == "" {
			name = "unknown"
		}
		var line []byte
		line = varintField(line, lineFunctionID, e.function(name, f.File))
		line = varintField(line, lineLine, uint64(f.Line))
		loc = bytesField(loc, locationLine, line)
		if !more {
			break
		}
	}
	e.locBuf = bytesField(e.locBuf, profileLocation, loc)
	return id
}

func (e *encoder) function(name, file string) uint64 {
	k := funcKey{name, file}
	if id, ok := e.functions[k]; ok {
		return id
	}
	id := uint64(len(e.functions) + 1)
	e.functions[k] = id
	var fn []byte
	fn = varintField(fn, functionID, id)
	fn = e.stringField(fn, functionName, name)
	fn = e.stringField(fn, functionSystemName, name)
	fn = e.stringField(fn, functionFilename, file)
	e.funcBuf = bytesField(e.funcBuf, profileFunction, fn)
	return id
}

// Wire types.
const (
	wireVarint = 0
	wireBytes  = 2
)

func varint(b []byte, x uint64) []byte {
	for x >= 0x80 {
		b = append(b, byte(x)|0x80)
		x >>= 7
	}
	return append(b, byte(x))
}

func tag(b []byte, field, wire int) []byte { return varint(b, uint64(field)<<3|uint64(wire)) }

func varintField(b []byte, field int, x uint64) []byte {
	return varint(tag(b, field, wireVarint), x)
}

func bytesField(b []byte, field int, data []byte) []byte {
	b = varint(tag(b, field, wireBytes), uint64(len(data)))
	return append(b, data...)
}

// packedUints appends xs as a packed repeated varint field (nothing if
// xs is empty).
func packedUints(b []byte, field int, xs []uint64) []byte {
	if len(xs) == 0 {
		return b
	}
	var n int
	for _, x := range xs {
		n += varintLen(x)
	}
	b = varint(tag(b, field, wireBytes), uint64(n))
	for _, x := range xs {
		b = varint(b, x)
	}
	return b
}

func varintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}
