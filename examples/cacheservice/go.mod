module github.com/nalloc/nalloc/examples/cacheservice

go 1.26.0

require (
	github.com/nalloc/nalloc v0.0.0
	github.com/nalloc/nalloc/nallocprom v0.0.0
	github.com/prometheus/client_golang v1.25.0
)

require (
	github.com/VictoriaMetrics/fastcache v1.13.2 // indirect
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/cockroachdb/swiss v0.0.0-20260820225851-333444432258 // indirect
	github.com/coocood/freecache v1.2.7 // indirect
	github.com/ebitengine/purego v0.11.3 // indirect
	github.com/golang/snappy v1.0.0 // indirect
	github.com/maypok86/otter/v2 v2.4.0 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.72.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace (
	github.com/nalloc/nalloc => ../..
	github.com/nalloc/nalloc/nallocprom => ../../nallocprom
)
