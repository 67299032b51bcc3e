package boot

import (
	"slices"
	"testing"
)

func TestToolArgs(t *testing.T) {
	cases := []struct {
		argv []string
		tool string
		args []string
		ok   bool
	}{
		{[]string{"/usr/bin/agentctl", "kubectl", "get", "pods"}, "kubectl", []string{"get", "pods"}, true},
		{[]string{"agentctl", "--non-interactive", "kubectl", "get", "pods"}, "kubectl", []string{"get", "pods"}, true},
		{[]string{"agentctl", "-o", "json", "--intent", "look", "terraform", "plan"}, "terraform", []string{"plan"}, true},
		{[]string{"agentctl", "-ojson", "--agent=bot", "tofu", "show"}, "tofu", []string{"show"}, true},
		{[]string{"agentctl", "--policy", "kubectl", "terraform", "plan"}, "terraform", []string{"plan"}, true}, // "kubectl" is --policy's value
		{[]string{"/home/a/.local/share/agentctl/shims/kubectl", "get", "pods"}, "kubectl", []string{"get", "pods"}, true},
		{[]string{"terraform", "apply"}, "terraform", []string{"apply"}, true},
		{[]string{"agentctl", "version"}, "", nil, false},
		{[]string{"agentctl", "explain", "--", "kubectl", "get", "pods"}, "", nil, false},
		{[]string{"agentctl", "--unknown", "kubectl", "get"}, "", nil, false},
		{[]string{"agentctl", "--", "kubectl", "get"}, "", nil, false},
		{[]string{"kubectl.test", "-test.run=^$"}, "", nil, false},
		{[]string{"agentctl"}, "", nil, false},
		{nil, "", nil, false},
	}
	for _, c := range cases {
		tool, args, ok := ToolArgs(c.argv)
		if tool != c.tool || ok != c.ok || !slices.Equal(args, c.args) {
			t.Errorf("ToolArgs(%q) = %q, %q, %v; want %q, %q, %v", c.argv, tool, args, ok, c.tool, c.args, c.ok)
		}
	}
}

func TestPrestartable(t *testing.T) {
	cases := []struct {
		tool string
		args []string
		want bool
	}{
		{"kubectl", []string{"get", "pods"}, true},
		{"kubectl", []string{"delete", "pod", "x"}, true}, // kubectl's class is known only after classifying
		{"terraform", []string{"plan"}, true},
		{"terraform", []string{"-chdir=infra", "validate"}, true},
		{"tofu", []string{"show", "-json"}, true},
		{"terraform", []string{"apply"}, false},
		{"terraform", []string{"destroy"}, false},
		{"terraform", []string{"state", "rm", "x"}, false},
		{"terraform", nil, false},
	}
	for _, c := range cases {
		if got := Prestartable(c.tool, c.args); got != c.want {
			t.Errorf("Prestartable(%q, %q) = %v, want %v", c.tool, c.args, got, c.want)
		}
	}
}
