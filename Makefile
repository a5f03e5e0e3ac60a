# claimcheck — the two commands of the README are `go run ./cmd/claimcheck demo` and `make test`.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GO ?= go

.PHONY: test deps lint unit e2e bench fuzz build

# Everything CI runs: installs what the tests need when it is missing, then
# lint, unit and in-process tests, and the interoperability tests.
test: deps lint unit e2e

deps:
	bash scripts/e2e-deps.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './e2e/oidc-provider/*')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	cd e2e && $(GO) vet ./...

unit:
	$(GO) test -count=1 -timeout 10m ./...

e2e:
	cd e2e && $(GO) test -count=1 -timeout 20m ./...

build:
	$(GO) build -o bin/claimcheck ./cmd/claimcheck

# Every figure the issues name: the core benchmarks, the suite and
# refresh-token figures, and streaming verify against raw RS256 (and, with
# STEP=/path/to/step, against smallstep's step).
bench:
	bash bench/run.sh
	sh bench/suite.sh
	bash bench/verify.sh

# Short fuzzing of every parser (FUZZTIME=5m for a real session).
FUZZTIME ?= 30s
fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)
