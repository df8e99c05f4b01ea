# nalloc: make test runs every check; make test-arm64 runs them as
# linux/arm64 (under qemu-user on an amd64 machine); make bench runs the
# shoot-out. Each installs the Debian packages it needs first.

GO       ?= go
# The native backends and their libraries' Debian packages, from
# internal/backends/backends.txt; with them, a C compiler for the C baselines the tests
# and benchmarks compare against (and for CGO_ENABLED=1 -race).
BACKENDS := $(shell awk '!/^\#/ && NF && $$2 != "-" {print $$1}' internal/backends/backends.txt)
DEB_PKGS := $(shell awk '!/^\#/ && NF && $$2 != "-" {print $$2}' internal/backends/backends.txt) gcc libc6-dev
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BENCHSTAT := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
# The build tags that change the call path, and the one that turns on the
# expensive internal checks; each gets a short test run.
PATH_TAGS := nalloc_safecall nalloc_purego nalloc_invariants

export NALLOC_REQUIRE_CC := 1

# Flags for the shoot-out, e.g. make bench BENCHFLAGS='-quick -chart shootout.png'.
BENCHFLAGS ?=

# The modules of their own besides bench (each has its go.mod, outside ./...
# here): the Apache Arrow adapter, the Prometheus collector, the example
# service (whose tests run its load test in the short setting), and the
# tests that parse nalloc.Profiled's profiles with google/pprof.
MODULES := arrowalloc nallocprom examples/cacheservice pproftest

# Flags for the example service's load test, e.g. make service LOADFLAGS=-short.
LOADFLAGS ?=

# How long make fuzz runs each fuzz target.
FUZZTIME ?= 60s
# How long make stress hammers each allocator.
STRESSTIME ?= 60s

# make test-arm64: the suite as linux/arm64, under qemu-user on an amd64
# machine (scripts/arm64-emulation sets it up) or natively on an arm64 one.
# Its binaries run emulated when the toolchain's own architecture is not
# arm64; cgo then builds with the cross compiler.
ARM64_EMULATED := $(shell [ "$$($(GO) env GOHOSTARCH)" = arm64 ] && echo 0 || echo 1)
ARM64    := GOARCH=arm64 NALLOC_EXPECT_EMULATED=$(ARM64_EMULATED) CGO_ENABLED=0
ARM64_BUT_ROOT = $$($(GO) list ./... | grep -vx github.com/nalloc/nalloc)
ARM64CGO := GOARCH=arm64 NALLOC_EXPECT_EMULATED=$(ARM64_EMULATED) CGO_ENABLED=1 \
	CC=$(if $(filter 1,$(ARM64_EMULATED)),aarch64-linux-gnu-gcc,cc)

.PHONY: deps test test-arm64 cross bench bench-micro icount-pairs icount-profiled lint fuzz stress service

# Packages are checked as pkg:arch: with multiarch (make test-arm64 adds
# arm64 builds of the libraries), dpkg calls a bare name ambiguous.
deps:
	@if ! command -v dpkg >/dev/null; then \
		echo "deps: not a Debian system; install the libraries of $(BACKENDS) and a C compiler yourself"; exit 0; fi; \
	arch=$$(dpkg --print-architecture); \
	missing=""; for p in $(DEB_PKGS); do dpkg -s $$p:$$arch >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

test: deps
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) test -count=1 ./...
	CGO_ENABLED=1 $(GO) test -count=1 -race ./...
	for tag in $(PATH_TAGS); do CGO_ENABLED=0 $(GO) test -count=1 -short -tags $$tag ./... || exit 1; done
	# jemalloc named as DT_NEEDED, so that it loads with no tunable.
	CGO_ENABLED=0 $(GO) test -count=1 -tags nalloc_jemalloc_linked ./jemalloc
	CGO_ENABLED=1 $(GO) test -count=1 -race -tags nalloc_jemalloc_linked ./jemalloc
	# The shoot-out is a module of its own (bench/go.mod), outside ./... here.
	cd bench && CGO_ENABLED=0 $(GO) test -count=1 ./... && CGO_ENABLED=1 $(GO) test -count=1 -race -short ./...
	for m in $(MODULES); do (cd $$m && $(GO) vet ./... && CGO_ENABLED=0 $(GO) test -count=1 ./... && \
		CGO_ENABLED=1 $(GO) test -count=1 -race ./...) || exit 1; done

# The whole suite as linux/arm64 (docs/platforms.md): every module,
# the call-path tags (-short, as make test runs them), the linked-jemalloc
# build, and the main module and the shoot-out once more with cgo. The
# root package runs once, without cgo or tags: its tests (containers,
# wrappers: the same Go on every architecture) reach what cgo and the
# call-path tags change (internal/ffi) through the backends, which run in
# every pass, and it takes 85 s a run under qemu, where CI has 30 minutes
# in all. nalloc_invariants runs on bump, its only user. Not here: the race
# detector (ThreadSanitizer refuses qemu-user's address space: "unsupported
# VMA range"), so -race runs on amd64 only, and valgrind (.ci/valgrind),
# which runs native binaries only.
test-arm64:
	./scripts/arm64-emulation
	GOARCH=arm64 $(GO) vet ./...
	$(ARM64) $(GO) test -count=1 ./...
	$(ARM64CGO) $(GO) test -count=1 $(ARM64_BUT_ROOT)
	for tag in nalloc_safecall nalloc_purego; do \
		$(ARM64) $(GO) test -count=1 -short -tags $$tag $(ARM64_BUT_ROOT) || exit 1; done
	$(ARM64) $(GO) test -count=1 -short -tags nalloc_invariants ./bump
	$(ARM64) $(GO) test -count=1 -tags nalloc_jemalloc_linked ./jemalloc
	$(ARM64CGO) $(GO) test -count=1 -tags nalloc_jemalloc_linked ./jemalloc
	cd bench && $(ARM64) $(GO) test -count=1 ./... && $(ARM64CGO) $(GO) test -count=1 -short ./...
	for m in $(MODULES); do (cd $$m && GOARCH=arm64 $(GO) vet ./... && $(ARM64) $(GO) test -count=1 ./...) || exit 1; done

# macOS and Windows, which no machine here runs (docs/platforms.md): every
# module built, vetted and its test binaries linked with CGO_ENABLED=0 for
# darwin/arm64, darwin/amd64, windows/amd64 and windows/arm64.
cross:
	GO=$(GO) ./scripts/cross

# With a C compiler the shoot-out is built with cgo, for its cgo column.
bench: deps
	CGO_ENABLED=$$(command -v $${CC:-cc} >/dev/null && echo 1 || echo 0) $(GO) run ./bench $(BENCHFLAGS)

# The micro-benchmarks: crossing cost per call path and backend, the arena,
# the wrappers and the containers, summarised by benchstat.
bench-micro: deps
	CGO_ENABLED=0 $(GO) test -short -run '^$$' -bench . -count 6 ./internal/ffi $(addprefix ./,$(BACKENDS)) ./bump . | tee bench.out
	$(GO) run $(BENCHSTAT) bench.out

# Instructions per allocate+free pair in C for each library's entry points
# (callgrind): the figures behind each backend's choice of entry points.
icount-pairs: deps
	./scripts/icount-pairs

icount-profiled: deps
	./scripts/icount-profiled

# The example service under load, the Go heap against nalloc: the README's
# figures (a cache of about 1 GiB; minutes). LOADFLAGS=-short: seconds.
# MEMLIMIT=600M runs the load test (its servers and itself) in a memory
# cgroup with that limit and GOMEMLIMIT at 0.9 of it (scripts/memlimit).
service: deps
ifdef MEMLIMIT
	cd examples/cacheservice && $(GO) build -o $${TMPDIR:-/tmp}/nalloc-cacheservice . && \
		../../scripts/memlimit -gomemlimit 0.9 $(MEMLIMIT) $${TMPDIR:-/tmp}/nalloc-cacheservice load $(LOADFLAGS)
else
	cd examples/cacheservice && $(GO) run . load $(LOADFLAGS)
endif

fuzz: deps
	./.ci/fuzz $(FUZZTIME)

stress: deps
	NALLOC_STRESS=$(STRESSTIME) CGO_ENABLED=1 $(GO) test -count=1 -race -run 'TestStress$$' -timeout 0 -v . | grep -E '^(=== RUN|---|ok|FAIL)|allocations'

# staticcheck, pinned; installed by go install so that CI has it.
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(or $(shell $(GO) env GOBIN),$(shell $(GO) env GOPATH)/bin)/staticcheck

lint:
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	GOOS=linux GOARCH=amd64 $(STATICCHECK) ./...
	GOOS=linux GOARCH=arm64 $(STATICCHECK) ./...
	$(GO) vet ./...
	for tag in $(PATH_TAGS); do $(GO) vet -tags $$tag ./... || exit 1; done
	CGO_ENABLED=0 $(GO) vet -tags nalloc_jemalloc_linked ./jemalloc
	CGO_ENABLED=1 $(GO) vet -tags nalloc_jemalloc_linked ./jemalloc
	GOARCH=arm64 $(GO) vet ./...
	# The purego fallback, as architectures without nalloc's assembly build it.
	GOARCH=riscv64 $(GO) vet ./...
	cd bench && $(GO) vet ./...
	for m in $(MODULES); do (cd $$m && CGO_ENABLED=0 $(GO) vet ./... && CGO_ENABLED=1 $(GO) vet ./...) || exit 1; done
