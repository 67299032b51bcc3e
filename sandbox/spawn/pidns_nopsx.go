//go:build linux && (!cgo || landlocktsync)

package spawn

// pidNamespace: the child gets a PID namespace of its own (see Start).
const pidNamespace = true
