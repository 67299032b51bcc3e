// Package gc delays garbage collection while agentctl starts. Only
// agentctl's main imports it; it is not part of package boot because it
// needs runtime/debug, which initialises late and would hold boot back.
//
// Collection waits for the first [Delay] of the process, with a soft heap
// limit of [Limit] meanwhile, unless GOGC or GOMEMLIMIT is set: what a
// start allocates is mostly live (package initialisation, kubectl's
// command tree), and a short command is over before collecting would free
// anything. A sandbox child starts with GOGC=off and GOMEMLIMIT set by
// spawn.Env, so that its runtime collects nothing from its first
// allocation; here it gets the defaults back after [Delay].
package gc

import (
	"math"
	"os"
	"runtime/debug"
	"time"

	"github.com/agentctl/agentctl/pkg/boot"
)

const (
	// Delay is how long collection waits after a start.
	Delay = 250 * time.Millisecond
	// Limit is the soft heap limit meanwhile.
	Limit = 256 << 20
)

func init() {
	if boot.IsSandboxChild() {
		time.AfterFunc(Delay, func() {
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(math.MaxInt64)
		})
		return
	}
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	pct := debug.SetGCPercent(-1)
	limit := debug.SetMemoryLimit(Limit)
	time.AfterFunc(Delay, func() {
		debug.SetGCPercent(pct)
		debug.SetMemoryLimit(limit)
	})
}
