//go:build !linux

package broker

// Outside Linux the broker admits nobody (peerCred), so its pool never
// hands a request; these only let it build.
const (
	sockCloexec = 0
	msgNoSignal = 0
)
