package e2e_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"slices"
	"testing"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// TestMCPInspectorListsAndExplains drives `agentctl mcp` with the real MCP
// Inspector CLI (testdata/npm, installed by testbin.sh), as a user checking
// a new server would: tools/list names agentctl's five tools with their
// schemas, and tools/call explain answers how a delete would be decided
// without running it.
func TestMCPInspectorListsAndExplains(t *testing.T) {
	inspector := testenv.Bin(t, "mcp-inspector")
	e := newEnv(t)
	inspect := func(args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), hang)
		defer cancel()
		cmd := exec.CommandContext(ctx, inspector, append([]string{"--cli", agentctlBin(t), "mcp"}, args...)...)
		cmd.Env, cmd.Dir = e.vars, e.dir
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("inspector %v: %v\nstdout: %s\nstderr: %s", args, err, out, stderr)
		}
		return out
	}

	var list struct {
		Tools []struct {
			Name        string `json:"name"`
			InputSchema struct {
				Type       string                     `json:"type"`
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"inputSchema"`
		} `json:"tools"`
	}
	out := inspect("--method", "tools/list")
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatalf("tools/list: %v\n%s", err, out)
	}
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
		if tool.InputSchema.Type != "object" {
			t.Errorf("tool %q: input schema type %q, want object", tool.Name, tool.InputSchema.Type)
		}
		if tool.Name == "kubectl" || tool.Name == "explain" {
			if _, ok := tool.InputSchema.Properties["argv"]; !ok {
				t.Errorf("tool %q has no argv in its schema: %v", tool.Name, tool.InputSchema.Properties)
			}
		}
	}
	slices.Sort(names)
	if want := []string{"audit_log", "explain", "kubectl", "terraform", "tofu"}; !slices.Equal(names, want) {
		t.Fatalf("the inspector lists %q, want %q", names, want)
	}

	var call struct {
		IsError    bool `json:"isError"`
		Structured struct {
			Class    string `json:"class"`
			Decision string `json:"decision"`
			Target   struct {
				Namespace string `json:"namespace"`
			} `json:"target"`
		} `json:"structuredContent"`
	}
	out = inspect("--method", "tools/call", "--tool-name", "explain",
		"--tool-arg", "tool=kubectl", `argv=["delete","pod","web-1","-n","prod"]`)
	if err := json.Unmarshal(out, &call); err != nil {
		t.Fatalf("tools/call explain: %v\n%s", err, out)
	}
	if s := call.Structured; call.IsError || s.Class != "destructive" || s.Decision != "approve" || s.Target.Namespace != "prod" {
		t.Fatalf("explain of a delete through the inspector: %s\nwant class destructive, decision approve, namespace prod", out)
	}
}
