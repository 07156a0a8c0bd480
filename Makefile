# imapkit: `make demo` and `make test` are the two set-up commands (see README.md).
GO      ?= go
PKGS    ?= ./...
FUZZTIME ?= 10s

.PHONY: all test demo bench fuzz deps check-fmt vet tidy-check

all: test

# deps installs the real IMAP servers the tests start (Debian/Ubuntu, as root).
deps:
	@./.ci/install-deps

check-fmt:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

test: deps check-fmt vet
	$(GO) test -race -count=1 $(PKGS)

demo: deps
	$(GO) run ./cmd/imapkit demo

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# fuzz runs every fuzz target for FUZZTIME each.
fuzz:
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' .); do \
		dir=$$(dirname $$f); \
		for t in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$f | sed 's/^func //'); do \
			echo "== $$dir $$t"; \
			$(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) $$dir; \
		done; \
	done
