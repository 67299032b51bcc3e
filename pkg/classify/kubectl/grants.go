package kubectl

import (
	"fmt"
	"sort"
	"strings"

	"github.com/agentctl/agentctl/pkg/classify"
)

// What an RBAC object grants, in words, so that the approver reads "binds
// ClusterRole cluster-admin to ServiceAccount web/deployer" in the reasons
// and not only in a diff.

// grantOf describes what a manifest object of an RBAC kind grants; "" for
// other kinds. ns is the namespace the object is created in.
func grantOf(kind, name, ns string, obj map[string]any) string {
	switch kind {
	case "RoleBinding", "ClusterRoleBinding":
		ref, _ := dig(obj, "roleRef").(map[string]any)
		refKind, _ := ref["kind"].(string)
		refName, _ := ref["name"].(string)
		var subjects []string
		list, _ := dig(obj, "subjects").([]any)
		for _, s := range list {
			m, _ := s.(map[string]any)
			k, _ := m["kind"].(string)
			n, _ := m["name"].(string)
			sns, _ := m["namespace"].(string)
			if k == "ServiceAccount" && sns == "" {
				sns = ns
			}
			subjects = append(subjects, subjectString(k, sns, n))
		}
		return bindingGrant(kind, name, ns, refKind, refName, subjects)
	case "Role", "ClusterRole":
		var rules []string
		list, _ := dig(obj, "rules").([]any)
		for _, r := range list {
			m, _ := r.(map[string]any)
			rules = append(rules, ruleString(strs(m["verbs"]), strs(m["resources"]), strs(m["nonResourceURLs"])))
		}
		g := fmt.Sprintf("%s %s grants %s", kind, name, orNothing(rules))
		if sel := dig(obj, "aggregationRule"); sel != nil {
			g += "; aggregates the rules of every ClusterRole its selectors match"
		}
		return g + scopeOf(kind, ns) + flags(rules)
	}
	return ""
}

func subjectString(kind, ns, name string) string {
	if kind == "ServiceAccount" {
		return "ServiceAccount " + ns + "/" + name
	}
	return kind + " " + name
}

func bindingGrant(kind, name, ns, refKind, refName string, subjects []string) string {
	if len(subjects) == 0 {
		subjects = []string{"no subjects"}
	}
	role := refKind + " " + refName
	if refName == "cluster-admin" {
		role += " (every verb on every resource)"
	}
	return fmt.Sprintf("%s %s binds %s to %s%s", kind, name, role, strings.Join(subjects, ", "), scopeOf(kind, ns))
}

func scopeOf(kind, ns string) string {
	if strings.HasPrefix(kind, "Cluster") {
		return " (cluster-wide)"
	}
	if ns == "" {
		return ""
	}
	return " in namespace " + ns
}

// ruleString is "get,list on pods,secrets".
func ruleString(verbs, resources, urls []string) string {
	on := resources
	if len(on) == 0 {
		on = urls
	}
	return strings.Join(verbs, ",") + " on " + strings.Join(on, ",")
}

// flags names the dangerous parts of a role's rules: wildcards and the
// verbs that hand out more than they name.
func flags(rules []string) string {
	var found []string
	seen := map[string]bool{}
	for _, r := range rules {
		verbs, on, _ := strings.Cut(r, " on ")
		for _, w := range []string{"escalate", "bind", "impersonate"} {
			if !seen[w] && containsWord(verbs, w) {
				seen[w] = true
				found = append(found, w)
			}
		}
		if !seen["*"] && (containsWord(verbs, "*") || containsWord(on, "*")) {
			seen["*"] = true
			found = append(found, "wildcard *")
		}
	}
	if len(found) == 0 {
		return ""
	}
	sort.Strings(found)
	return "; note: " + strings.Join(found, ", ")
}

func containsWord(list, w string) bool {
	for _, x := range strings.Split(list, ",") {
		if x == w {
			return true
		}
	}
	return false
}

func orNothing(rules []string) string {
	if len(rules) == 0 {
		return "nothing"
	}
	return strings.Join(rules, "; ")
}

func strs(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// createGrant describes what kubectl create role|clusterrole|rolebinding|
// clusterrolebinding grants, from its flags.
func (s *state) createGrant(sub, name, ns string) {
	p := s.p
	var g string
	switch sub {
	case "rolebinding", "clusterrolebinding":
		kind := map[string]string{"rolebinding": "RoleBinding", "clusterrolebinding": "ClusterRoleBinding"}[sub]
		refKind, refName := "ClusterRole", p.str("clusterrole")
		if v := p.str("role"); v != "" {
			refKind, refName = "Role", v
		}
		var subjects []string
		for _, u := range p.flags["user"] {
			subjects = append(subjects, subjectString("User", "", u))
		}
		for _, g := range p.flags["group"] {
			subjects = append(subjects, subjectString("Group", "", g))
		}
		for _, sa := range p.flags["serviceaccount"] {
			sns, sname, _ := strings.Cut(sa, ":")
			subjects = append(subjects, subjectString("ServiceAccount", sns, sname))
		}
		g = bindingGrant(kind, name, ns, refKind, refName, subjects)
	case "role", "clusterrole":
		kind := map[string]string{"role": "Role", "clusterrole": "ClusterRole"}[sub]
		rule := ruleString(p.flags["verb"], p.flags["resource"], p.flags["non-resource-url"])
		rules := []string{rule}
		if len(p.flags["verb"]) == 0 {
			rules = nil
		}
		g = fmt.Sprintf("%s %s grants %s", kind, name, orNothing(rules))
		if p.has("aggregation-rule") {
			g += "; aggregates the rules of every ClusterRole its selectors match"
		}
		g += scopeOf(kind, ns) + flags(rules)
	}
	if g != "" {
		s.a.Raise(classify.Privilege, "%s", g)
	}
}
