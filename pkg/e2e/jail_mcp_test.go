package e2e_test

import (
	"context"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestJailMCPServerIsABrokerClient gives an MCP client `agentctl run --
// agentctl mcp`: the server runs inside the jail, where there is no
// kubeconfig and no route to the cluster, and each tool call is a request
// to the broker, as a shim's is. A read runs against the real cluster, a
// delete in CI mode comes back refused with its class, rule and hint,
// explain answers from the broker's world, and the audit log has the
// broker worker's decisions under the MCP client's name.
func TestJailMCPServerIsABrokerClient(t *testing.T) {
	j := newJailEnv(t)
	cmd := exec.Command(agentctlBin(t), "run", "--", "agentctl", "mcp")
	cmd.Env, cmd.Dir = j.vars, j.dir
	if j.agent != nil && j.agent.Cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: j.agent.Cred}
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	c := mcp.NewClient(&mcp.Implementation{Name: "jailed-mcp-agent", Version: "1"}, nil)
	s, err := c.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connect to agentctl mcp in the jail: %v\nstderr: %s", err, stderr.String())
	}
	defer s.Close()

	res, out := mcpCall(t, ctx, s, &mcp.CallToolParams{Name: "kubectl", Arguments: map[string]any{
		"argv": []string{"-n", j.ns, "get", "pods", "-o", "name"}, "intent": "look at the web pods"}})
	if res.IsError || out.ExitCode != 0 || !strings.Contains(out.Stdout, "pod/web") ||
		out.Class != "read" || out.Decision != "sandbox" || out.RequestID == "" || strings.Contains(out.Stderr, `"agentctl"`) {
		t.Fatalf("get pods from the jail: %+v", out)
	}

	res, out = mcpCall(t, ctx, s, &mcp.CallToolParams{Name: "kubectl", Arguments: map[string]any{
		"argv": []string{"-n", j.ns, "delete", "configmap", "app-config"}}})
	if !res.IsError || out.ExitCode != exitDenied || out.Decision != "deny" || out.Class != "destructive" || out.Rule == "" || out.Hint == "" || out.RequestID == "" {
		t.Fatalf("delete in CI mode from the jail: %+v", out)
	}
	if strings.Contains(out.Stderr, `"exitCode"`) {
		t.Errorf("the refusal's JSON is left in stderr: %q", out.Stderr)
	}
	if !configMapExists(t, j.c, j.ns, "app-config") {
		t.Fatal("the refused delete ran")
	}

	ex, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "explain", Arguments: map[string]any{
		"tool": "kubectl", "argv": []string{"-n", j.ns, "delete", "configmap", "app-config"}}})
	if err != nil {
		t.Fatalf("explain from the jail: %v", err)
	}
	if ex.IsError {
		var msg string
		for _, c := range ex.Content {
			if tc, ok := c.(*mcp.TextContent); ok {
				msg += tc.Text
			}
		}
		t.Fatalf("explain from the jail: %s", msg)
	}
	if m, _ := ex.StructuredContent.(map[string]any); m["class"] != "destructive" {
		t.Errorf("explain: %v", ex.StructuredContent)
	}

	var read, refused bool
	for _, rec := range j.auditRecords() {
		if rec["kind"] != "decision" || rec["ppid"] != float64(j.b.pid) || rec["tool"] != "kubectl" || rec["agent"] != "jailed-mcp-agent" {
			continue
		}
		switch rec["decision"] {
		case "deny":
			refused = true
		default:
			read = read || rec["intent"] == "look at the web pods"
		}
	}
	if !read || !refused {
		t.Errorf("the broker's worker's decisions for the MCP calls: read %v, refused %v", read, refused)
	}
}
