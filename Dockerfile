# The nalloc shoot-out in a Debian image with all five native allocators:
#
#   docker build -t nalloc . && docker run --rm nalloc
#   docker run --rm nalloc -quick -format json     # flags go to the shoot-out
#
# For linux/arm64 as well (Graviton, Apple silicon), from any machine:
#
#   docker buildx build --platform linux/amd64,linux/arm64 -t nalloc .
#   buildah bud --platform linux/arm64 --build-arg BUILDPLATFORM=linux/amd64 -t nalloc .
#
# (buildah 1.28, Debian 12's, sets TARGETPLATFORM and TARGETARCH from
# --platform but not BUILDPLATFORM: pass it, or the build stage runs
# emulated too.)
#
# Stage 1 builds the bench command on the build machine's own platform,
# cross-compiling Go for the target (TARGETARCH); stage 2 runs it on
# debian:bookworm-slim of the target platform with glibc, libjemalloc2,
# libmimalloc2.0, libtcmalloc-minimal4, libtbbmalloc2 and gcc for the
# C column. An arm64 image run on an amd64 machine (under qemu-user)
# says on its first lines that its figures mean nothing.

FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
ARG TARGETOS=linux
ARG TARGETARCH
WORKDIR /src
# The C cross compiler for the target, when it is not the build machine's
# architecture: the cgo build below needs it.
RUN case "${TARGETARCH:-$(go env GOARCH)}" in \
      "$(go env GOARCH)") echo cc >/cc ;; \
      arm64) echo aarch64-linux-gnu-gcc >/cc; pkg=gcc-aarch64-linux-gnu ;; \
      amd64) echo x86_64-linux-gnu-gcc >/cc; pkg=gcc-x86-64-linux-gnu ;; \
      *) echo "nalloc: no cross compiler for TARGETARCH=$TARGETARCH" >&2; exit 1 ;; \
    esac; \
    if [ -n "${pkg:-}" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null && rm -rf /var/lib/apt/lists/*; fi
# Module downloads first, so that editing code does not fetch them again
# (GOWORK=off: go.work also lists modules not copied yet; bench's go.mod
# replaces nalloc with ../ on its own).
COPY go.mod go.sum go.work ./
COPY bench/go.mod bench/go.sum bench/
RUN cd bench && GOWORK=off go mod download
COPY . .
# CGO_ENABLED=1 for the shoot-out's cgo column (the same Go workloads
# calling each library through cgo), built with the target's C compiler;
# nalloc itself needs no cgo (purego loads the libraries), and the binary
# depends on nothing but libc either way, which the run stage's Debian has
# in the same version.
RUN CGO_ENABLED=1 GOOS=$TARGETOS GOARCH=${TARGETARCH:-$(go env GOARCH)} CC=$(cat /cc) \
      go build -trimpath -o /out/nalloc-bench ./bench

# The target's platform, named: builders that set TARGETPLATFORM but would
# otherwise run this stage on the first stage's (buildah 1.28) need it.
FROM --platform=$TARGETPLATFORM debian:bookworm-slim
# Each backend's library (internal/backends/backends.txt lists them), gcc for the C column.
COPY internal/backends/backends.txt /tmp/backends
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      $(awk '!/^#/ && NF && $2 != "-" {print $2}' /tmp/backends) gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/* /tmp/backends
# Debian's libjemalloc.so.2 uses initial-exec TLS: without this, dlopen
# after start fails with "cannot allocate memory in static TLS block". The
# shoot-out sets it for its own children anyway; set here, it also covers
# the parent process. (On arm64 the shoot-out also re-executes itself once
# with TCMalloc preloaded: see tcmalloc.Reexec.)
ENV GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384
COPY --from=build /out/nalloc-bench /usr/local/bin/nalloc-bench
ENTRYPOINT ["nalloc-bench"]
