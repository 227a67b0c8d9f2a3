# calletl — see README.md. Everything a fresh clone needs is installed here.
GO       ?= go
PKGS     := ./...
GOBIN    := $(shell $(GO) env GOPATH)/bin
# A real S3 server for the blob store tests, run on loopback by the tests.
VERSITYGW := $(GOBIN)/versitygw

.PHONY: build demo test test-browser tools vet fmt-check bench fuzz clean

build: ## build bin/etl
	$(GO) build -o bin/etl ./cmd/etl

demo: build ## run the nightly job on the built-in emulators and print daily_summary
	./bin/etl demo --dir demo

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

$(VERSITYGW):
	$(GO) install github.com/versity/versitygw/cmd/versitygw@v1.8.0

tools: $(VERSITYGW) ## what the tests need beyond Go: versitygw (S3)

test: fmt-check vet tools ## gofmt, vet, and every test with the race detector (S3 tests against versitygw)
	PATH="$(GOBIN):$$PATH" CALLETL_REQUIRE_S3=1 $(GO) test -race -count=1 -timeout 15m $(PKGS)

test-browser: ## the HTML report rendered by Debian's headless chromium, with a screenshot (installs chromium)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(GO) test -count=1 -run HTMLScreenshot -v ./report/

bench: ## the benchmarks behind BENCHMARKS.md
	$(GO) test -run '^$$' -bench PagesToParquet -benchtime 5x -count 3 ./extract/mtt/
	$(GO) test -run '^$$' -bench EndToEnd -benchtime 1x -count 3 -timeout 30m ./cmd/etl/
	$(GO) test -run '^$$' -bench WriteCalls -benchmem ./load/

fuzz: ## a short run of every fuzz target
	$(GO) test -run '^$$' -fuzz FuzzScanner -fuzztime 30s ./extract/jsonscan/
	$(GO) test -run '^$$' -fuzz FuzzMoney -fuzztime 30s ./transform/
	$(GO) test -run '^$$' -fuzz FuzzHistoryPage -fuzztime 30s ./extract/mtt/
	$(GO) test -run '^$$' -fuzz FuzzDecodeRecord -fuzztime 30s ./extract/t2/
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 30s ./extract/votbox/

clean:
	rm -rf bin demo
