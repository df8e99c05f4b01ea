// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package arrowalloc_test

import (
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// schema is the record the tests and the benchmark build: a column of
// each kind of layout Arrow has (fixed width with nulls, variable width,
// bits, a list, a struct of two).
var schema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "tags", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
	{Name: "point", Type: arrow.StructOf(
		arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int32},
		arrow.Field{Name: "label", Type: arrow.BinaryTypes.String},
	)},
}, nil)

// Column indexes in schema.
const (
	colID = iota
	colScore
	colName
	colFlag
	colTags
	colPoint
)

// buildRecord builds rows [from, from+n) of the test record on mem, one
// value at a time, as a program filling builders does. Row i's values are
// a function of i alone, so records built in pieces concatenate to the
// record built at once. Apart from the builders themselves, it makes no
// Go heap allocation: what it costs is Arrow's and the allocator's. The
// caller releases the record.
func buildRecord(mem memory.Allocator, from, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	id := b.Field(colID).(*array.Int64Builder)
	score := b.Field(colScore).(*array.Float64Builder)
	name := b.Field(colName).(*array.StringBuilder)
	flag := b.Field(colFlag).(*array.BooleanBuilder)
	tags := b.Field(colTags).(*array.ListBuilder)
	tag := tags.ValueBuilder().(*array.Int32Builder)
	point := b.Field(colPoint).(*array.StructBuilder)
	x := point.FieldBuilder(0).(*array.Int32Builder)
	label := point.FieldBuilder(1).(*array.StringBuilder)
	var text []byte
	for i := from; i < from+n; i++ {
		if i%7 == 0 {
			id.AppendNull()
		} else {
			id.Append(int64(i))
		}
		score.Append(float64(i) / 4)
		if i%13 == 0 {
			name.AppendNull()
		} else {
			text = strconv.AppendInt(append(text[:0], "row-"...), int64(i), 10)
			name.BinaryBuilder.Append(text)
		}
		if i%11 == 0 {
			flag.AppendNull()
		} else {
			flag.Append(i%3 == 0)
		}
		if i%17 == 0 {
			tags.AppendNull()
		} else {
			tags.Append(true)
			for j := range i % 5 {
				tag.Append(int32(i + j))
			}
		}
		point.Append(true)
		x.Append(int32(-i))
		label.Append(letters[i%26 : i%26+1])
	}
	return b.NewRecordBatch()
}

const letters = "abcdefghijklmnopqrstuvwxyz"
