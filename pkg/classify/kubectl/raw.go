package kubectl

import (
	"path"
	"strings"

	"github.com/agentctl/agentctl/pkg/classify"
)

// raw classifies a --raw request by the path it addresses and its method:
// a GET of a Secret is secret; exec, attach, port-forward and proxy
// subresources are exec; any other non-GET is at least write.
func (s *state) raw(method, p string) {
	a := s.a
	u, _, _ := strings.Cut(p, "?")
	if !strings.HasPrefix(u, "/") || strings.ContainsAny(u, "%\\") {
		a.Raise(classify.Unknown, "--raw %q: not a plain absolute path", p)
		return
	}
	u = path.Clean(u)
	parts := strings.Split(strings.Trim(u, "/"), "/")
	var rest []string
	group, version := "", ""
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		version, rest = parts[1], parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		group, version, rest = parts[1], parts[2], parts[3:]
	default:
		// /api, /apis, /version, /healthz, /metrics, /openapi/..., /logs
		if method == "GET" {
			a.Raise(classify.Read, "--raw GET %s reads a non-resource path", u)
		} else {
			a.Raise(classify.Write, "--raw %s %s changes state", method, u)
		}
		return
	}
	ns := ""
	if len(rest) >= 2 && rest[0] == "namespaces" && len(rest) > 2 {
		ns, rest = rest[1], rest[2:]
	}
	if len(rest) == 0 {
		a.Raise(classify.Read, "--raw %s %s reads API discovery", method, u)
		return
	}
	resource := rest[0]
	name, sub := "", ""
	if len(rest) > 1 {
		name = rest[1]
	}
	if len(rest) > 2 {
		sub = rest[2]
	}
	qual := resource
	if group != "" {
		qual += "." + version + "." + group
	} else {
		qual += "." + version + "." // core: no group
	}
	var k *kind
	if group == "" {
		k, _ = s.c.catalog.lookup(resource)
		if k != nil && k.gvk.Group != "" {
			k = nil
		}
	} else if ks := s.resolveType(resource + "." + version + "." + group); len(ks) == 1 {
		k = ks[0]
	}
	if k == nil {
		a.Raise(classify.Unknown, "--raw %s %s: unknown resource %q", method, u, strings.TrimSuffix(qual, "."))
		return
	}
	action := strings.ToLower(method)
	if sub != "" {
		action += " " + sub
	}
	eff := map[string]effect{"GET": effRead, "DELETE": effDelete}[method]
	if method != "GET" && method != "DELETE" {
		eff = effWrite
	}
	switch sub {
	case "exec", "attach", "portforward", "proxy":
		eff = effExec
	}
	r := s.add(k, ns, name, classify.SourceRaw, action, eff)
	switch {
	case k.gvk.Kind == "Secret" && method == "GET":
		r.Class = classify.Secret
		a.Raise(classify.Secret, "--raw GET of Secrets returns their data")
	case sub == "token" && method != "GET":
		a.Raise(classify.Privilege, "--raw %s %s issues a token", method, u)
	case sub == "approval" && method != "GET":
		a.Raise(classify.Privilege, "--raw %s %s approves a certificate", method, u)
	}
}
