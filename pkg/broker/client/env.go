package client

import "strings"

// clientVars are the variables a worker takes from the client's
// environment (docs/protocol.md, "The environment"); clientPrefixes are
// families of them. Everything else a worker has is the broker's.
var (
	clientVars = map[string]bool{
		"AGENTCTL_OUTPUT": true, "AGENTCTL_INTENT": true, "AGENTCTL_AGENT": true,
		"AGENTCTL_NON_INTERACTIVE": true, "AGENTCTL_APPROVER": true, "AGENTCTL_POLICY": true,
		"CI":   true,
		"TERM": true, "COLORTERM": true, "NO_COLOR": true, "COLUMNS": true, "LINES": true,
		"LANG": true, "TZ": true,
		"TF_WORKSPACE": true, "TF_INPUT": true, "TF_IN_AUTOMATION": true,
	}
	clientPrefixes = []string{"LC_", "TF_VAR_"}
)

// FromClient says whether the variable named key may come from a client.
func FromClient(key string) bool {
	if clientVars[key] {
		return true
	}
	for _, p := range clientPrefixes {
		if strings.HasPrefix(key, p) && len(key) > len(p) {
			return true
		}
	}
	return false
}

// ClientEnv is the part of environ a client sends: the allowed variables.
func ClientEnv(environ []string) []string {
	var out []string
	for _, kv := range environ {
		if k, _, ok := strings.Cut(kv, "="); ok && FromClient(k) {
			out = append(out, kv)
		}
	}
	return out
}
