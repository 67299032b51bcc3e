package sandbox

import (
	"fmt"
	"runtime"
)

// UnavailableError is what [Run] returns for a config with
// [Config.Required] on a system that has no sandbox at all: Landlock and
// user and network namespaces exist only on Linux. It wraps
// [ErrNotEnforceable], like [*NotEnforceableError], so callers that check
// errors.Is(err, ErrNotEnforceable) treat both alike.
type UnavailableError struct {
	// GOOS is the operating system agentctl runs on.
	GOOS string
}

func newUnavailableError() *UnavailableError { return &UnavailableError{GOOS: runtime.GOOS} }

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("sandbox unavailable on %s: Landlock and user and network namespaces exist only on Linux, "+
		"so a read cannot be confined to its inputs and the API server", e.GOOS)
}

// Hint says how to go on: run on Linux, or accept unconfined reads.
func (e *UnavailableError) Hint() string {
	return "run agentctl on Linux, or use a policy that sets `sandbox: best-effort` " +
		"to run reads here unconfined (the audit log records that nothing was enforced)"
}

func (e *UnavailableError) Unwrap() error { return ErrNotEnforceable }
