//go:build linux && cgo && !landlocktsync

package sandbox

import (
	"os"
	"strconv"
)

// psxGrants are what go-landlock needs in a cgo build (the test
// binaries): libpsx lists /proc/PID/task after the Landlock call, and
// go-landlock grants reading that dir (go-landlock issue 39). agentctl
// itself is built without cgo and needs nothing of /proc.
func psxGrants() []mountGrant {
	return []mountGrant{{path: "/proc/" + strconv.Itoa(os.Getpid()) + "/task"}}
}
