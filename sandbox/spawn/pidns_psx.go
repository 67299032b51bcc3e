//go:build linux && cgo && !landlocktsync

package spawn

// pidNamespace is false in a cgo build (the test binaries): there
// go-landlock goes through libpsx, which finds the process's threads in
// /proc/<getpid()>/task and signals them by those ids, and in a PID
// namespace of its own the child's getpid() and thread ids are not those
// of the /proc it sees. agentctl is built without cgo.
const pidNamespace = false
