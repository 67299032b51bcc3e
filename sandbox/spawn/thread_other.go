//go:build !linux

package spawn

// OnLastingThread runs start. Only Linux has parent-death signals, so
// which thread starts a child does not matter elsewhere.
func OnLastingThread(start func() error) error { return start() }
