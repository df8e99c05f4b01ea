# The nalloc shoot-out in a Debian image with all five native allocators:
#
#   docker build -t nalloc . && docker run --rm nalloc
#   docker run --rm nalloc -quick -format json     # flags go to the shoot-out
#
# Stage 1 builds the bench command; stage 2 runs it on debian:bookworm-slim
# with glibc, libjemalloc2, libmimalloc2.0, libtcmalloc-minimal4,
# libtbbmalloc2 and gcc for the C column.

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Module downloads first, so that editing code does not fetch them again.
COPY go.mod go.sum go.work ./
COPY bench/go.mod bench/go.sum bench/
RUN cd bench && go mod download
COPY . .
# CGO_ENABLED=1 for the shoot-out's cgo column (the same Go workloads
# calling each library through cgo); nalloc itself needs no cgo (purego
# loads the libraries), and the binary depends on nothing but libc either
# way, which the run stage's Debian has in the same version.
RUN CGO_ENABLED=1 go build -trimpath -o /out/nalloc-bench ./bench

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libjemalloc2 libmimalloc2.0 libtcmalloc-minimal4 libtbbmalloc2 gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
# Debian's libjemalloc.so.2 uses initial-exec TLS: without this, dlopen
# after start fails with "cannot allocate memory in static TLS block". The
# shoot-out sets it for its own children anyway; set here, it also covers
# the parent process.
ENV GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384
COPY --from=build /out/nalloc-bench /usr/local/bin/nalloc-bench
ENTRYPOINT ["nalloc-bench"]
