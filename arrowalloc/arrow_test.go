// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package arrowalloc_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The tests in this file drive Arrow itself (its builders, IPC, Concatenate
// and compute kernels) on arrowalloc over every allocator, and compare
// what comes out with the same work done on Arrow's GoAllocator. Each runs
// under Arrow's CheckedAllocator (nothing leaked), an alignment check
// (every buffer 64-byte aligned) and, in the poisoned setting, nalloc's
// Checked (no misuse, every block given back, and every byte that Arrow
// did not write and arrowalloc did not zero reads as poison).

const rows = 10_000

// goMem is the reference the results are compared with.
var goMem = memory.NewGoAllocator()

func TestBuilders(t *testing.T) {
	want := buildRecord(goMem, 0, rows)
	defer want.Release()
	forEachStack(t, false, func(t *testing.T, mem memory.Allocator) {
		got := buildRecord(mem, 0, rows)
		defer got.Release()
		if !array.RecordEqual(got, want) {
			t.Fatalf("the record built on arrowalloc differs from the one built on GoAllocator")
		}
		// Equal compares values only; the bytes of every buffer, padding
		// and the slots under nulls included, must be what GoAllocator's
		// zeroed memory gives.
		for c := range got.Columns() {
			compareBuffers(t, schema.Field(c).Name, got.Column(c).Data(), want.Column(c).Data())
		}
	})
}

// compareBuffers fails t if any buffer of got, or of its children, holds
// other bytes than the same buffer of want, up to its length.
func compareBuffers(t *testing.T, path string, got, want arrow.ArrayData) {
	t.Helper()
	for i, gb := range got.Buffers() {
		wb := want.Buffers()[i]
		if gb == nil || wb == nil {
			if (gb == nil) != (wb == nil) {
				t.Errorf("%s: buffer %d is nil on one side only", path, i)
			}
			continue
		}
		if !bytes.Equal(gb.Bytes(), wb.Bytes()) {
			t.Errorf("%s: buffer %d (%d bytes) differs from GoAllocator's: %x..., want %x...",
				path, i, gb.Len(), head(gb.Bytes()), head(wb.Bytes()))
		}
	}
	for i, child := range got.Children() {
		compareBuffers(t, fmt.Sprintf("%s.%d", path, i), child, want.Children()[i])
	}
}

func head(b []byte) []byte { return b[:min(len(b), 16)] }

// ipcFormats are the IPC settings the round trip covers.
var ipcFormats = []struct {
	name string
	file bool // the file format (footer, random access) instead of the stream
	opts []ipc.Option
}{
	{"stream", false, nil},
	{"stream-lz4", false, []ipc.Option{ipc.WithLZ4()}},
	{"stream-zstd", false, []ipc.Option{ipc.WithZstd()}},
	{"file", true, nil},
	{"file-zstd", true, []ipc.Option{ipc.WithZstd()}},
}

// writeIPC writes recs in the given format, allocating on mem.
func writeIPC(mem memory.Allocator, file bool, opts []ipc.Option, recs ...arrow.RecordBatch) ([]byte, error) {
	var buf bytes.Buffer
	opts = append([]ipc.Option{ipc.WithSchema(schema), ipc.WithAllocator(mem)}, opts...)
	var w interface {
		Write(arrow.RecordBatch) error
		Close() error
	}
	if file {
		fw, err := ipc.NewFileWriter(&buf, opts...)
		if err != nil {
			return nil, err
		}
		w = fw
	} else {
		w = ipc.NewWriter(&buf, opts...)
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			w.Close()
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// readIPC reads every record of data on mem; the caller releases them.
func readIPC(mem memory.Allocator, file bool, data []byte) (recs []arrow.RecordBatch, err error) {
	defer func() {
		if err != nil {
			release(recs...)
			recs = nil
		}
	}()
	if file {
		r, err := ipc.NewFileReader(bytes.NewReader(data), ipc.WithAllocator(mem))
		if err != nil {
			return nil, err
		}
		defer r.Close()
		for i := range r.NumRecords() {
			rec, err := r.RecordBatch(i)
			if err != nil {
				return recs, err
			}
			rec.Retain() // the reader releases it at the next read
			recs = append(recs, rec)
		}
		return recs, nil
	}
	r, err := ipc.NewReader(bytes.NewReader(data), ipc.WithAllocator(mem))
	if err != nil {
		return nil, err
	}
	defer r.Release()
	for r.Next() {
		rec := r.RecordBatch()
		rec.Retain()
		recs = append(recs, rec)
	}
	return recs, r.Err()
}

func TestIPC(t *testing.T) {
	want := []arrow.RecordBatch{buildRecord(goMem, 0, rows), buildRecord(goMem, rows, rows/3)}
	defer release(want...)
	for _, f := range ipcFormats {
		wantBytes, err := writeIPC(goMem, f.file, f.opts, want...)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(f.name, func(t *testing.T) {
			forEachStack(t, false, func(t *testing.T, mem memory.Allocator) {
				recs := []arrow.RecordBatch{buildRecord(mem, 0, rows), buildRecord(mem, rows, rows/3)}
				data, err := writeIPC(mem, f.file, f.opts, recs...)
				if err != nil {
					t.Fatal(err)
				}
				release(recs...)
				// Without compression the bytes are the buffers as they are,
				// so they match GoAllocator's only if every byte Arrow left
				// unwritten is zero.
				if f.opts == nil && !bytes.Equal(data, wantBytes) {
					t.Errorf("%s written from arrowalloc's buffers: %d bytes that differ from GoAllocator's %d",
						f.name, len(data), len(wantBytes))
				}
				got, err := readIPC(mem, f.file, data)
				if err != nil {
					t.Fatal(err)
				}
				defer release(got...)
				if len(got) != len(want) {
					t.Fatalf("read %d records, want %d", len(got), len(want))
				}
				for i := range got {
					if !array.RecordEqual(got[i], want[i]) {
						t.Errorf("record %d read back differs from the one written", i)
					}
				}
			})
		})
	}
}

func TestConcatenate(t *testing.T) {
	want := buildRecord(goMem, 0, 3*rows/2)
	defer want.Release()
	forEachStack(t, false, func(t *testing.T, mem memory.Allocator) {
		// Uneven pieces, so that the offsets of strings and lists must be
		// rebased and the validity bitmaps shifted by other than whole bytes.
		parts := []arrow.RecordBatch{
			buildRecord(mem, 0, rows/2+3),
			buildRecord(mem, rows/2+3, 5),
			buildRecord(mem, rows/2+8, rows-8),
		}
		defer release(parts...)
		for c := range schema.NumFields() {
			cols := make([]arrow.Array, len(parts))
			for i, p := range parts {
				cols[i] = p.Column(c)
			}
			got, err := array.Concatenate(cols, mem)
			if err != nil {
				t.Fatalf("Concatenate %s: %v", schema.Field(c).Name, err)
			}
			if !array.Equal(got, want.Column(c)) {
				t.Errorf("Concatenate %s: the result differs from the column built at once", schema.Field(c).Name)
			}
			got.Release()
		}
	})
}

func TestCompute(t *testing.T) {
	ref := buildRecord(goMem, 0, rows)
	defer ref.Release()
	refCtx := compute.WithAllocator(context.Background(), goMem)
	// The kernels, each run on GoAllocator for the expected result and on
	// arrowalloc for the result under test.
	kernels := []struct {
		name string
		run  func(ctx context.Context, rec arrow.RecordBatch) (arrow.Array, error)
	}{
		{"add", func(ctx context.Context, rec arrow.RecordBatch) (arrow.Array, error) {
			id := compute.NewDatumWithoutOwning(rec.Column(colID))
			out, err := compute.Add(ctx, compute.ArithmeticOptions{}, id, id)
			if err != nil {
				return nil, err
			}
			defer out.Release()
			return out.(*compute.ArrayDatum).MakeArray(), nil
		}},
		{"cast", func(ctx context.Context, rec arrow.RecordBatch) (arrow.Array, error) {
			return compute.CastToType(ctx, rec.Column(colID), arrow.PrimitiveTypes.Float64)
		}},
		{"filter", func(ctx context.Context, rec arrow.RecordBatch) (arrow.Array, error) {
			return compute.FilterArray(ctx, rec.Column(colName), rec.Column(colFlag), *compute.DefaultFilterOptions())
		}},
		{"take", func(ctx context.Context, rec arrow.RecordBatch) (arrow.Array, error) {
			idx := reversed(compute.GetAllocator(ctx), int(rec.NumRows()))
			defer idx.Release()
			return compute.TakeArray(ctx, rec.Column(colTags), idx)
		}},
		{"sort_indices", func(ctx context.Context, rec arrow.RecordBatch) (arrow.Array, error) {
			key := compute.DefaultSortKey()
			key.Order = 1 // descending
			// An integer column without nulls: on a column with nulls or
			// of floating point, arrow-go v18.8.0's sort_indices never
			// releases its scratch buffer (tmpBuf in
			// internal/kernels/vector_sort.go), a leak of 8 bytes a row
			// that the Go heap hides and every off-heap allocator shows.
			x := rec.Column(colPoint).(*array.Struct).Field(0)
			return compute.SortIndicesArray(ctx, x, key)
		}},
	}
	for _, k := range kernels {
		want, err := k.run(refCtx, ref)
		if err != nil {
			t.Fatalf("%s on GoAllocator: %v", k.name, err)
		}
		defer want.Release()
		t.Run(k.name, func(t *testing.T) {
			forEachStack(t, false, func(t *testing.T, mem memory.Allocator) {
				rec := buildRecord(mem, 0, rows)
				defer rec.Release()
				got, err := k.run(compute.WithAllocator(context.Background(), mem), rec)
				if err != nil {
					t.Fatal(err)
				}
				defer got.Release()
				if !array.Equal(got, want) {
					t.Errorf("the result differs from the same kernel's on GoAllocator")
				}
			})
		})
	}
	// One result checked against values computed here, so that the
	// comparison above cannot pass with both sides wrong.
	id := ref.Column(colID).(*array.Int64)
	out, err := compute.Add(refCtx, compute.ArithmeticOptions{}, compute.NewDatum(id), compute.NewDatum(id))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	sum := out.(*compute.ArrayDatum).MakeArray().(*array.Int64)
	defer sum.Release()
	for i := range id.Len() {
		if sum.IsNull(i) != id.IsNull(i) || !id.IsNull(i) && sum.Value(i) != 2*int64(i) {
			t.Fatalf("add: row %d = %v, want twice %v", i, sum.GetOneForMarshal(i), id.GetOneForMarshal(i))
		}
	}
}

// reversed returns the indices n-1, ..., 0 as an Int32 array on mem.
func reversed(mem memory.Allocator, n int) arrow.Array {
	b := array.NewInt32Builder(mem)
	defer b.Release()
	b.Reserve(n)
	for i := n - 1; i >= 0; i-- {
		b.UnsafeAppend(int32(i))
	}
	return b.NewArray()
}

// TestConcurrent runs builders and IPC round trips on one Allocator from
// several goroutines at once, for the race detector.
func TestConcurrent(t *testing.T) {
	const goroutines, rounds = 4, 8
	forEachStack(t, true, func(t *testing.T, mem memory.Allocator) {
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for r := range rounds {
					rec := buildRecord(mem, (g*rounds+r)*100, 500)
					data, err := writeIPC(mem, false, []ipc.Option{ipc.WithZstd()}, rec)
					var got []arrow.RecordBatch
					if err == nil {
						got, err = readIPC(mem, false, data)
					}
					if err != nil {
						t.Errorf("goroutine %d round %d: %v", g, r, err)
					} else if len(got) != 1 || !array.RecordEqual(got[0], rec) {
						t.Errorf("goroutine %d round %d: the record read back differs", g, r)
					}
					release(got...)
					rec.Release()
				}
			})
		}
		wg.Wait()
	})
}

func release(recs ...arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}
