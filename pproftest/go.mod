module github.com/nalloc/nalloc/pproftest

go 1.26.0

replace github.com/nalloc/nalloc => ../

require (
	github.com/google/pprof v0.0.0-20261105003125-4bf881d7fb0b
	github.com/nalloc/nalloc v0.0.0-00010101000000-000000000000
)

require github.com/cockroachdb/swiss v0.0.0-20260820225851-333444432258 // indirect
