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

.PHONY: all build demo test testdeps testbin lint bench clean release-check

all: build

build:
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/agentctl

# The system tools the tests use (rsyslogd, tmux, ...): installed with
# apt-get as root, else named in one line before anything slow starts.
testdeps:
	@bash testdata/tools/testdeps.sh

# The real components the tests run against, built from the Go module
# proxy into ~/.cache/agentctl/testbin, side by side, with progress (only
# the first run builds: docs/testing.md says how long it takes).
testbin:
	@bash testdata/tools/testbin.sh

# demo.sh builds the cluster binaries it needs (and, on a terminal,
# terraform and the test provider).
demo: build
	bash testdata/tools/demo.sh

# Without cgo, as released (build, goreleaser) and as pkg/e2e builds
# agentctl: vet, the tests and the e2e binary then share one compilation
# of every package instead of compiling each twice (cgo changes the build
# of net and os/user, and so of everything above them).
lint:
	@out=$$(gofmt -l cmd pkg sandbox policies); if [[ -n $$out ]]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	CGO_ENABLED=0 $(GO) vet ./...

# Every test: unit, fuzz seeds, end-to-end against the real cluster and
# terraform. AGENTCTL_E2E=1 makes a missing real component a failure, not
# a skip; testdeps fails first if a system tool is missing.
test: testdeps testbin lint release-check
	AGENTCTL_E2E=1 CGO_ENABLED=0 $(GO) test -count=1 -timeout 40m ./...

# goreleaser check and a snapshot build of every release archive.
release-check:
	bash testdata/tools/release-check.sh

bench: testbin
	bash testdata/tools/bench.sh

clean:
	rm -rf bin
