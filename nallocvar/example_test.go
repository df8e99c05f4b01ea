// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package nallocvar_test

import (
	"encoding/json"
	"expvar"
	"fmt"

	"github.com/nalloc/nalloc"
	"github.com/nalloc/nalloc/nallocvar"
)

func ExamplePublish() {
	// Count what goes through the allocator, and publish the counts with
	// its Stats; /debug/vars (expvar.Handler) then shows them.
	a := nalloc.NewCounting(nalloc.NewGoHeap())
	if err := nallocvar.Publish("cache", a); err != nil {
		panic(err)
	}
	l := nalloc.Layout{Size: 4096, Align: 64}
	p, _ := a.Allocate(l)
	defer a.Deallocate(p, l)

	var vars struct {
		Nalloc map[string]map[string]int64 `json:"nalloc"`
	}
	json.Unmarshal([]byte("{\"nalloc\": "+expvar.Get("nalloc").String()+"}"), &vars)
	cache := vars.Nalloc["cache"]
	fmt.Println("allocations_total:", cache["allocations_total"])
	fmt.Println("live_bytes:", cache["live_bytes"])
	// Output:
	// allocations_total: 1
	// live_bytes: 4096
}

func ExamplePublishGCPacer() {
	p, err := nalloc.StartGCPacer()
	if err != nil {
		panic(err)
	}
	defer p.Stop()
	if err := nallocvar.PublishGCPacer(p); err != nil {
		panic(err)
	}
	defer nallocvar.Unpublish(nallocvar.GCPacerName)

	var vars struct {
		Nalloc map[string]map[string]int64 `json:"nalloc"`
	}
	json.Unmarshal([]byte("{\"nalloc\": "+expvar.Get("nalloc").String()+"}"), &vars)
	fmt.Println("gcpacer_running:", vars.Nalloc["gcpacer"]["gcpacer_running"])
	// Output:
	// gcpacer_running: 1
}
