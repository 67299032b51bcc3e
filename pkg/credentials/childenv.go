package credentials

import (
	"fmt"
	"path"
	"strings"
)

// BaseEnv is the part of the agent's environment every child gets.
// Anything else (KUBECONFIG, VAULT_*, AWS_*, GOOGLE_*, AZURE_*, ARM_*,
// TF_VAR_*, proxies) passes only when the configuration allows it.
var BaseEnv = []string{"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "LC_*", "TERM", "TZ", "NO_COLOR", "TMPDIR", "COLUMNS"}

// ChildEnv builds a child's environment from the agent's: the entries
// named by [BaseEnv] and by allow (names or globs). agentctl's own
// AGENTCTL_* variables never pass. The credential's entries are added by
// [Credential.Environ].
func ChildEnv(agentEnv []string, allow []string) []string {
	var out []string
	for _, e := range agentEnv {
		name, _, ok := strings.Cut(e, "=")
		if !ok || name == "" || strings.HasPrefix(name, "AGENTCTL_") {
			continue
		}
		if matchAny(BaseEnv, name) || matchAny(allow, name) {
			out = append(out, e)
		}
	}
	return out
}

func matchAny(globs []string, s string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, s); ok {
			return true
		}
	}
	return false
}

// FlagError refuses an agent-given flag that would point kubectl at a
// cluster or credential agentctl did not choose. The CLI maps it to exit
// code 77 (denied).
type FlagError struct {
	Flag  string
	Value string
}

func (e *FlagError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("flag --%s is refused: agentctl supplies the credentials", e.Flag)
	}
	return fmt.Sprintf("flag --%s=%q is refused: it names no configured target", e.Flag, e.Value)
}

// Hint tells the agent or the user the way out.
func (e *FlagError) Hint() string {
	switch e.Flag {
	case "context", "cluster", "server", "kubeconfig":
		return fmt.Sprintf("hint: use a configured context, or allow it under flags.%ss in the agentctl configuration", flagAllowKey(e.Flag))
	}
	return "hint: drop the flag; agentctl hands the configured identity to kubectl"
}

func flagAllowKey(f string) string {
	if f == "kubeconfig" {
		return "kubeconfig"
	}
	return f
}

// credentialFlags carry credentials; an agent never gives them.
var credentialFlags = map[string]bool{"token": true, "username": true, "password": true, "client-key": true,
	"client-certificate": true, "user": true, "certificate-authority": true, "insecure-skip-tls-verify": true}

// CheckTargetFlags refuses kubectl flags in args (the agent's argv after
// "kubectl") that choose a cluster or credential outside the configured
// targets: --kubeconfig, --context, --cluster, --server/-s unless a target
// matches them or they are allowed (the configuration's flags section,
// plus extra from the policy); --token, --user, --username, --password,
// --client-key, --client-certificate, --certificate-authority and
// --insecure-skip-tls-verify always: agentctl supplies the credentials.
func (c *Config) CheckTargetFlags(args []string, extra FlagAllow) error {
	allow := FlagAllow{
		Contexts:    append(append([]string(nil), c.Flags.Contexts...), extra.Contexts...),
		Clusters:    append(append([]string(nil), c.Flags.Clusters...), extra.Clusters...),
		Servers:     append(append([]string(nil), c.Flags.Servers...), extra.Servers...),
		Kubeconfigs: append(append([]string(nil), c.Flags.Kubeconfigs...), extra.Kubeconfigs...),
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		var name, val string
		hasVal := false
		switch {
		case strings.HasPrefix(a, "--"):
			name, val, hasVal = strings.Cut(a[2:], "=")
		case a == "-s":
			name = "server"
		case strings.HasPrefix(a, "-s") && !strings.HasPrefix(a, "--"):
			name, val, hasVal = "server", strings.TrimPrefix(a[2:], "="), true
		default:
			continue
		}
		if credentialFlags[name] {
			return &FlagError{Flag: name}
		}
		var ok func(string) bool
		switch name {
		case "context":
			ok = func(v string) bool {
				return matchAny(allow.Contexts, v) || c.anyTarget(func(m Match) bool { return m.Context != "" && glob(m.Context, v) })
			}
		case "cluster":
			ok = func(v string) bool {
				return matchAny(allow.Clusters, v) || c.anyTarget(func(m Match) bool { return m.Cluster != "" && glob(m.Cluster, v) })
			}
		case "server":
			ok = func(v string) bool {
				return matchAny(allow.Servers, v) || c.anyTarget(func(m Match) bool { return m.Server != "" && glob(m.Server, v) })
			}
		case "kubeconfig":
			ok = func(v string) bool { return matchAny(allow.Kubeconfigs, v) }
		default:
			continue
		}
		if !hasVal {
			if i+1 >= len(args) {
				return &FlagError{Flag: name}
			}
			i++
			val = args[i]
		}
		if !ok(val) {
			return &FlagError{Flag: name, Value: val}
		}
	}
	return nil
}

func (c *Config) anyTarget(f func(Match) bool) bool {
	for _, t := range c.Targets {
		if f(t.Match) {
			return true
		}
	}
	return false
}
