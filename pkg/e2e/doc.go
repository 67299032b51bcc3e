// Package e2e holds agentctl's end-to-end tests: the agentctl binary, built
// once per test run from ./cmd/agentctl, run against the real test cluster
// of [github.com/agentctl/agentctl/pkg/testenv] and compared with upstream
// kubectl.
//
// The package has no code of its own. Run it with
//
//	make testbin                   # once: builds etcd, kube-apiserver, kubectl
//	go test ./pkg/e2e/
//
// Without the test binaries the tests skip, unless CI is set or
// AGENTCTL_E2E=1 (then they fail).
package e2e
