package broker

import (
	"strings"

	"github.com/agentctl/agentctl/pkg/broker/client"
)

// WorkerEnv is a worker's environment: the broker's own, without what
// makes an agentctl a client of a broker, with the client's allowed
// variables over it (a variable the allow-list does not name is dropped,
// whatever the client sent), and the worker marker.
func WorkerEnv(broker, fromClient []string) []string {
	env := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := env[k]; !ok {
			order = append(order, k)
		}
		env[k] = v
	}
	for _, kv := range broker {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == client.SocketEnv || k == client.WorkerEnv || k == client.TTYEnv || k == client.ClientPIDEnv {
			continue
		}
		set(k, v)
	}
	for _, kv := range fromClient {
		if k, v, ok := strings.Cut(kv, "="); ok && client.FromClient(k) {
			set(k, v)
		}
	}
	set(client.WorkerEnv, "1")
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+env[k])
	}
	return out
}
