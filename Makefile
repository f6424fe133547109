# pixelk6 — see README.md. `make demo` is the main job; `make test` is what CI runs.
GO      ?= go
BIN     := bin
CMDS    := pixelk6 k6verdict pixelsim
export CGO_ENABLED ?= 0

.PHONY: all build test vet unit e2e bench demo clean

all: build

## build: all binaries into bin/
build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ $(addprefix ./cmd/,$(CMDS))

## test: vet, race-enabled unit tests, then the end-to-end tests (everything CI checks)
test: vet unit e2e

vet:
	$(GO) vet ./...

unit:
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 15m $$($(GO) list ./... | grep -v /e2e)

e2e:
	$(GO) test -count=1 -timeout 15m ./e2e/...

## bench: Go micro-benchmarks, then whole-program throughput side by side with the references
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 200ms $$($(GO) list ./... | grep -v /e2e)
	bash bench/pixelsim-wrk.sh
	bash bench/runner-bench.sh
	bash bench/analyzer-bench.sh

## demo: build, start pixelsim, run short REST and streaming tests through pixelk6, print k6verdict's verdicts
demo: build
	bash scripts/demo.sh

clean:
	rm -rf $(BIN) out
