# agentctl — the two commands a new machine needs:
#   make demo   build agentctl and a local cluster, and show what it does
#   make test   run every test (what CI runs: .ci/run)
SHELL := bash
GO    ?= go
BIN   := bin/agentctl
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
KUBECTL_VERSION := $(shell $(GO) list -m -f "{{.Version}}" k8s.io/kubectl 2>/dev/null | sed "s/^v0/v1/")
LDFLAGS := -X github.com/agentctl/agentctl/pkg/cli.version=$(VERSION) \
           -X k8s.io/component-base/version.gitVersion=$(KUBECTL_VERSION) \
           -X github.com/agentctl/agentctl/pkg/cli.commit=$(COMMIT) \
           -X github.com/agentctl/agentctl/pkg/cli.date=$(DATE)

.PHONY: all build demo test testbin lint bench clean release-check

all: build

build:
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/agentctl

# The real components the tests run against, built from the Go module
# proxy into ~/.cache/agentctl/testbin (only the first run builds).
testbin:
	bash testdata/tools/build-cluster.sh
	bash testdata/tools/build-terraform.sh

demo: build
	bash testdata/tools/build-cluster.sh
	bash testdata/tools/demo.sh

lint:
	@out=$$(gofmt -l cmd pkg sandbox policies); if [[ -n $$out ]]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Every test: unit, fuzz seeds, end-to-end against the real cluster and
# terraform. AGENTCTL_E2E=1 makes a missing real component a failure, not
# a skip.
test: testbin lint release-check
	AGENTCTL_E2E=1 $(GO) test -count=1 -timeout 40m ./...

# goreleaser check and a snapshot build of every release archive.
release-check:
	bash testdata/tools/release-check.sh

bench: testbin
	bash testdata/tools/bench.sh

clean:
	rm -rf bin
