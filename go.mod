module github.com/nalloc/nalloc

go 1.26

require (
	github.com/cockroachdb/swiss v0.0.0-20260820225851-333444432258
	github.com/ebitengine/purego v0.11.3
)
