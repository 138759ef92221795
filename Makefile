# slotrush — make targets. `make demo` and `make test` are the two a newcomer needs.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS  := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
BIN      := bin/slotrush
PKGS     := ./...
BENCHCOUNT ?= 10

.PHONY: all build test agreement vet fmt-check tidy-check lint demo bench fuzz-smoke clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/slotrush

## test: formatting, vet, tidy check, the linter, every test with the race
## detector, then the simulator's agreement with a live run, alone (see
## agreement).
test: fmt-check vet tidy-check lint
	$(GO) test -race -count=1 -timeout 20m $(PKGS)
	$(MAKE) --no-print-directory agreement

## agreement: calibrate the model from a live ci-smoke run and compare. It
## runs alone and without -race: a calibration measures the machine, and one
## busy with other packages' tests (browser, race detector) is not the one
## the model is asked about.
agreement:
	SLOTRUSH_AGREEMENT=1 $(GO) test -count=1 -timeout 5m -run '^TestSimulateAgreesWithLive$$' -v ./cmd/slotrush

vet:
	$(GO) vet $(PKGS)

## lint: golangci-lint v2, pinned in go.mod as a Go tool (.golangci.yml).
lint:
	$(GO) tool golangci-lint run --allow-parallel-runners $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

tidy-check:
	$(GO) mod tidy -diff

## demo: the default scenario against all three designs, live; writes out/demo/index.html.
## STORE=postgres://… or STORE=dynamodb://HOST:PORT runs the designs on that engine.
demo: build
	./$(BIN) run --scenario demo --out out/demo $(if $(STORE),--store '$(STORE)')

## bench: benchmarks for benchstat (-count $(BENCHCOUNT)), written to bench/.
bench:
	./scripts/bench.sh

## fuzz-smoke: a short run of every fuzz target.
fuzz-smoke:
	./scripts/fuzz-smoke.sh

clean:
	rm -rf bin out
