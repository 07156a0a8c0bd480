# imapkit: `make demo` and `make test` are the two set-up commands (see README.md).
GO      ?= go
PKGS    ?= ./...
FUZZTIME ?= 10s
# TESTTIMEOUT bounds each test binary (go test's default is 10m). The
# commands package under -race took 7.3 to 10 minutes on a loaded 2-core
# machine (its top-level tests add up to 560 s; the ten largest to 326 s):
# at the default it dies with "panic: test timed out after 10m0s" naming
# whichever test was running. It only guards against a hang.
TESTTIMEOUT ?= 30m

.PHONY: all test demo bench bench-compare fuzz lint deps modules check-fmt vet tidy-check

all: test

# deps installs the real IMAP servers the tests start (Debian/Ubuntu, as root).
deps:
	@echo "== checking the IMAP servers and tools the tests need (.ci/install-deps)"
	@./.ci/install-deps

# modules fetches the Go modules the build needs; with an empty module
# cache this is the first silent minute, so it says so.
modules:
	@echo "== downloading Go modules (go mod download; quick once they are cached)"
	@$(GO) mod download

check-fmt:
	@echo "== gofmt"
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# vet builds with -race so that the packages it compiles are the ones the
# tests' -race build reuses: without it an empty build cache compiled the
# standard library and every package twice (measured at load 7-10: vet 298 s
# and the tests' build 439 s before; vet -race 261 s and the tests' build
# 73 s after). make test then runs go test with -vet=off: the checks go
# test would run are a subset of these.
vet: modules
	@echo "== go vet (builds every package with -race: a few minutes with an empty build cache)"
	$(GO) vet -race -tags $(TESTTAGS) $(PKGS)

# lint runs staticcheck on both modules, fetched by version through the
# module proxy (go run pkg@version: not a dependency of either module).
# Not part of make test, which must not need a tool it cannot vendor.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
lint: modules
	@echo "== staticcheck (a minute the first time: it is downloaded and built)"
	$(GO) run $(STATICCHECK) $(PKGS)
	cd bench && $(GO) run $(STATICCHECK) ./...
	@echo "== a 32-bit vet, tests included (int is 32 bits there: a constant past it does not compile)"
	GOARCH=386 $(GO) vet $(PKGS)
	@echo "== go vet for other systems (a file built for Linux alone breaks them; the shell's readline does not build on Plan 9)"
	for os in windows darwin freebsd plan9; do echo "GOOS=$$os"; GOOS=$$os $(GO) vet $(PKGS) || exit 1; done

# tidy-check fails when go.mod or go.sum differ from what 'go mod tidy' writes.
tidy-check: modules
	@echo "== go mod tidy -diff"
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run 'go mod tidy'"; exit 1; }

# The comparison suite's module (bench/) is vetted and tested beside the
# main module's tests, its output kept until they end: the main module's
# last test binaries (commands, session) wait on servers and deadlines
# for minutes with a core to spare, and the bench step ran after them,
# alone, for a minute and a half from an empty build cache.
BENCHTEST = cd bench && $(GO) vet -race ./... && $(GO) mod tidy -diff && $(GO) test -race -vet=off -count=1 ./...

# TESTPKGS lists the longest test binaries first: go test starts them in
# the order given (a package named twice runs once). session and
# commands (about 5 minutes each, much of it waiting on servers and
# deadlines) came last in ./...'s order and ran alone at the end with a
# core idle: session alone for the last 170 s of a 684 s cold run.
TESTPKGS ?= ./session ./commands ./cmd/imapkit $(PKGS)
# TESTP test binaries run at once (go test -p; GOMAXPROCS, 2 here, by
# default): the three longest wait for servers and deadlines a good part
# of their time, and with 2 the third (cmd/imapkit, 213 s) ran after the
# first two, alone at the end: 612 s cold with 2 (quiet machine).
TESTP ?= 3
# TESTTAGS are the tests' build tags: imapkit_workhook compiles in the
# work counters of internal/workhook (codec's SeqSet), which the tests of
# cost read; without it their Hook.Set skips them (and, with CI set,
# workhook's TestTagGivenInCI fails the run). vet builds with the
# same tags, so that the tests reuse its packages. Not for bench: the
# benchmarks measure the library as users build it.
TESTTAGS ?= imapkit_workhook

test: deps modules check-fmt vet tidy-check
	@echo "== building the tests with -race and running them; the tests start Dovecot and Cyrus (minutes with an empty build cache)"
	@echo "== beside them: the comparison suite's own module (bench/, with go-imap v2): go vet, go mod tidy -diff, its tests with -race (its timed runs are make bench-compare's); its output follows theirs"
	@blog=$$(mktemp); trap 'rm -f "$$blog"' EXIT; trap 'rm -f "$$blog"; exit 130' INT TERM; \
	( $(BENCHTEST) ) >$$blog 2>&1 & bpid=$$!; \
	echo "$(GO) test -race -tags $(TESTTAGS) -vet=off -count=1 -p $(TESTP) -timeout $(TESTTIMEOUT) $(TESTPKGS)"; \
	$(GO) test -race -tags $(TESTTAGS) -vet=off -count=1 -p $(TESTP) -timeout $(TESTTIMEOUT) $(TESTPKGS); st=$$?; \
	wait $$bpid; bst=$$?; \
	echo "== the comparison suite's module (bench/): $(BENCHTEST)"; cat "$$blog"; \
	if [ $$bst -ne 0 ]; then echo "bench/: FAILED (exit $$bst)"; fi; \
	[ $$st -eq 0 ] && [ $$bst -eq 0 ]

demo: deps modules
	@echo "== building imapkit (a minute with an empty build cache)"
	@mkdir -p bin
	$(GO) build -o bin/imapkit ./cmd/imapkit
	@echo "== running the demo"
	./bin/imapkit demo

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# bench-compare runs the comparison suite of the bench module (its own
# go.mod: go-imap v2 stays out of the main module) and prints its tables:
# in-process benchmarks, end to end against a seeded Dovecot (plain and
# TLS, imapkit, go-imap v2, imaplib, a raw client), pipelining through a
# 20 ms relay and IDLE sessions per process. 5 to 10 minutes; see
# docs/performance.md. COMPARE_FLAGS passes flags, e.g. -parts micro.
bench-compare:
	cd bench && $(GO) run ./cmd/compare $(COMPARE_FLAGS)

# fuzz runs every fuzz target for FUZZTIME each (see docs/fuzzing.md for the
# long campaign), then internal/redact's exhaustive tests at full size.
fuzz:
	@FUZZTIME=$(FUZZTIME) GO=$(GO) ./.ci/fuzz
	@echo "== internal/redact's exhaustive tests at their full sizes (make test runs them a size smaller)"
	$(GO) test -count=1 -run 'Exhaustive$$' ./internal/redact -redact-exhaustive
