# pixelk6 — see README.md. `make demo` is the main job; `make test` is what CI runs.
GO      ?= go
BIN     := bin
CMDS    := pixelk6 k6verdict pixelsim
export CGO_ENABLED ?= 0
# FUZZTIME: how long `make fuzz` runs each fuzz target (3s in `make test`; `make fuzz FUZZTIME=60s`).
FUZZTIME ?= 3s
# The race detector needs cgo, so a C compiler: HAVE_CC is "yes" when `go env CC` resolves.
HAVE_CC := $(shell cc=$$($(GO) env CC); command -v "$${cc%% *}" >/dev/null 2>&1 && echo yes)

.PHONY: all build test check vet fmt tidy staticcheck deadcode unit e2e fuzz bench k6-api demo clean

all: build

## build: all binaries into bin/
build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ $(addprefix ./cmd/,$(CMDS))

## test: the static checks, race-enabled unit tests, the end-to-end tests, then every fuzz
## target for FUZZTIME (everything CI checks)
test: check unit e2e fuzz

## check: go vet, gofmt, go mod tidy, staticcheck and deadcode (the tools are pinned in go.mod)
check: vet fmt tidy staticcheck deadcode

vet:
	$(GO) vet ./...

fmt:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt: these files need gofmt -w:"; echo "$$out"; exit 1; fi

tidy:
	$(GO) mod tidy -diff

staticcheck:
	$(GO) tool staticcheck ./...

## deadcode: fails when a function is reachable neither from a main nor from a test
deadcode:
	@out=$$($(GO) tool deadcode -test ./...) || exit 1; if [ -n "$$out" ]; then echo "deadcode: unreachable code:"; echo "$$out"; exit 1; fi

unit:
ifeq ($(HAVE_CC),yes)
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 15m $$($(GO) list ./... | grep -v /e2e)
else
	@echo "make test: no C compiler ($$($(GO) env CC) not found): unit tests run WITHOUT -race (the race detector needs cgo)"
	$(GO) test -count=1 -timeout 15m $$($(GO) list ./... | grep -v /e2e)
endif

e2e:
	$(GO) test -count=1 -timeout 15m ./e2e/...

## fuzz: every fuzz target in the module (found by name, so new ones are included), FUZZTIME each;
## a bare deadline at the -fuzztime boundary (Go's coordinator race golang/go#75804) warns, a finding fails
fuzz:
	$(GO) run ./internal/cmd/fuzzall -go $(GO) -fuzztime $(FUZZTIME)

## bench: Go micro-benchmarks, then whole-program throughput side by side with the references
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 200ms $$($(GO) list ./... | grep -v /e2e)
	bash bench/pixelsim-wrk.sh
	bash bench/runner-bench.sh
	bash bench/scale-bench.sh
	bash bench/websockets-bench.sh
	bash bench/analyzer-bench.sh

## k6-api: every script of examples/k6-api (k6's JavaScript API, module by module) through the
## real runner against loopback servers the tests start; part of `make test` (unit)
k6-api:
	$(GO) test -count=1 -run 'TestK6API' ./cli
	$(GO) test -count=1 ./examples/k6-api/...

## demo: build, start pixelsim, run short REST and streaming tests through pixelk6, print k6verdict's verdicts
demo: build
	bash scripts/demo.sh

clean:
	rm -rf $(BIN) out
