# calletl — see README.md. Everything a fresh clone needs is installed here.
GO       ?= go
PKGS     := ./...
GOBIN    := $(shell $(GO) env GOPATH)/bin
# A real S3 server for the storage (S3 store) tests, run on loopback by the tests.
VERSITYGW := $(GOBIN)/versitygw

.PHONY: build demo test test-race test-scale test-browser tools vet fmt-check bench fuzz clean

# What etl --version prints: set with -ldflags -X (a plain go build says "(devel)").
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo unknown)
COMMIT   ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -X main.buildVersion=$(VERSION) -X main.buildCommit=$(COMMIT)

build: ## build bin/etl, stamped with the version (git describe) and commit
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/etl ./cmd/etl

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

test: fmt-check vet tools test-race test-scale ## gofmt, vet, every test with the race detector (S3 tests against versitygw), then the scale-out night

test-race: tools
	PATH="$(GOBIN):$$PATH" CALLETL_REQUIRE_S3=1 $(GO) test -race -count=1 -timeout 15m $(PKGS)

test-scale: tools ## the scale-out night on versitygw (200 MTT customers, 4 shard processes, one SIGKILLed, then 3): without the race detector, which would instrument each of the shard processes too
	PATH="$(GOBIN):$$PATH" CALLETL_REQUIRE_S3=1 CALLETL_SCALE_TEST=1 $(GO) test -count=1 -timeout 20m -run '^TestScaleOutOnS3$$' ./cmd/etl/

test-browser: ## the HTML report rendered by Debian's headless chromium (a screenshot), and the etl serve page driven in it: pick a report, change the dates, download (installs chromium)
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
		echo "test-browser: chromium could not be installed (needs root and Debian's package mirror): the screenshot test will skip"
	$(GO) test -count=1 -run 'HTMLScreenshot|ServeBrowser' -v ./report/

bench: tools ## the benchmarks behind BENCHMARKS.md (the report one generates a 10M-call lake: ~2 min, ~1 GB in TMPDIR)
	$(GO) test -run '^$$' -bench PagesToParquet -benchtime 5x -count 3 ./extract/mtt/
	$(GO) test -run '^$$' -bench Anchor -benchtime 1x -count 3 -timeout 30m ./extract/mtt/
	$(GO) test -run '^$$' -bench ExtractPages -benchtime 4x -count 3 ./extract/mtt/
	$(GO) test -run '^$$' -bench MTTHistoryPaging -benchtime 1x ./sandbox/
	$(GO) test -run '^$$' -bench EndToEnd -benchtime 1x -count 3 -timeout 30m ./cmd/etl/
	$(GO) test -run '^$$' -bench APIBound -benchtime 1x -count 3 -timeout 30m ./cmd/etl/
	$(GO) test -run '^$$' -bench BigPages -benchtime 1x -count 3 -timeout 30m ./cmd/etl/
	$(GO) test -run '^$$' -bench BigDays -benchtime 1x -count 3 -timeout 30m ./cmd/etl/
	$(GO) test -run '^$$' -bench TxManyDays -benchtime 1x -count 3 ./load/
	$(GO) test -run '^$$' -bench WriteCalls -benchmem ./load/
	PATH="$(GOBIN):$$PATH" CALLETL_REQUIRE_S3=1 $(GO) test -run '^$$' -bench FetchToS3 -benchtime 1x -count 3 ./recordings/
	$(GO) test -run '^$$' -bench Reports10M -benchtime 3x -timeout 20m ./report/
	$(GO) test -run '^$$' -bench Compaction -benchtime 3x -timeout 30m -v ./report/
	PATH="$(GOBIN):$$PATH" $(GO) test -run '^$$' -bench CompactionOnS3 -benchtime 1x -count 2 -timeout 30m ./load/
	PATH="$(GOBIN):$$PATH" CALLETL_REQUIRE_S3=1 $(GO) test -run '^$$' -bench ShardsOnS3 -benchtime 1x -count 2 -timeout 30m ./cmd/etl/
	PATH="$(GOBIN):$$PATH" $(GO) test -run '^$$' -bench Receive -benchtime 20000x -count 3 ./receive/

fuzz: ## a short run of every fuzz target
	$(GO) test -run '^$$' -fuzz FuzzScanner -fuzztime 30s ./extract/jsonscan/
	$(GO) test -run '^$$' -fuzz FuzzMoney -fuzztime 30s ./transform/
	$(GO) test -run '^$$' -fuzz FuzzLakeStrings -fuzztime 30s ./load/
	$(GO) test -run '^$$' -fuzz FuzzHistoryPage -fuzztime 30s ./extract/mtt/
	for f in FuzzDecodeRecord FuzzDecodeManager FuzzDecodeJournal FuzzParseStats; do \
		$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime 30s ./extract/t2/ || exit 1; done
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 30s ./extract/votbox/
	for f in FuzzDecodeState FuzzDecodeBalance FuzzParseValues; do \
		$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime 30s ./extract/mobilgroup/ || exit 1; done
	for f in FuzzLiftRow FuzzDecodeList FuzzParseContentRange FuzzParseTime FuzzLiftBalance; do \
		$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime 30s ./extract/voicebox/ || exit 1; done
	$(GO) test -run '^$$' -fuzz '^FuzzLiftBalance$$' -fuzztime 30s ./extract/votbox/
	for f in FuzzLiftPrice FuzzLiftNumber FuzzLiftCustomer; do \
		$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime 30s ./extract/voicebox/ || exit 1; done

clean:
	rm -rf bin demo
