//go:build linux && (!cgo || landlocktsync)

package sandbox

// psxGrants is empty: without cgo go-landlock needs nothing of /proc.
func psxGrants() []mountGrant { return nil }
