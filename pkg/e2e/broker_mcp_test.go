package e2e_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// brokerMCPSession connects to the MCP tools the broker b serves over
// streamable HTTP on its own socket, as a client that speaks HTTP over a
// unix socket would.
func brokerMCPSession(t *testing.T, b *brokerProc, name string) *mcp.ClientSession {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", b.sock)
		},
	}}
	c := mcp.NewClient(&mcp.Implementation{Name: name, Version: "1"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	s, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://agentctl/mcp", HTTPClient: hc}, nil)
	if err != nil {
		t.Fatalf("connect to the broker's MCP endpoint: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestBrokerServesMCPOverHTTP: the broker's socket also speaks MCP over
// streamable HTTP. Its tools are agentctl mcp's; a read runs in one of
// the broker's workers, a delete in CI is refused with the CLI's reason
// and the object stays, and the audit log names the client as the agent.
func TestBrokerServesMCPOverHTTP(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	e := newEnv(t) // CI=true
	kc := c.Kubeconfig(t, testenv.UserAdmin)
	b := startBroker(t, e)
	s := brokerMCPSession(t, b, "e2e-http-agent")
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()

	tools, err := s.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
	}
	slices.Sort(names)
	if want := []string{"audit_log", "explain", "kubectl", "terraform", "tofu"}; !slices.Equal(names, want) {
		t.Errorf("tools %v, want %v", names, want)
	}

	res, out := mcpCall(t, ctx, s, kubectlParams("--kubeconfig", kc, "-n", ns, "get", "cm", "app-config", "-o", "name"))
	if res.IsError || out.ExitCode != 0 || strings.TrimSpace(out.Stdout) != "configmap/app-config" ||
		out.Class != "read" || out.Decision != "sandbox" || out.RequestID == "" || out.Stderr != "" {
		t.Fatalf("get over HTTP: %+v", out)
	}

	res, out = mcpCall(t, ctx, s, kubectlParams("--kubeconfig", kc, "-n", ns, "delete", "cm", "app-config"))
	if !res.IsError || out.ExitCode != exitDenied || out.Decision != "deny" || out.Class != "destructive" ||
		!strings.Contains(out.Reason, "non-interactive") || out.RequestID == "" {
		t.Errorf("delete in CI over HTTP: %+v", out)
	}
	if !configMapExists(t, c, ns, "app-config") {
		t.Fatal("the configmap was deleted")
	}

	res, _ = mcpCall(t, ctx, s, &mcp.CallToolParams{Name: "explain", Arguments: map[string]any{"tool": "kubectl", "argv": []string{"--kubeconfig", kc, "-n", ns, "delete", "cm", "app-config"}}})
	var ex struct {
		Class    string `json:"class"`
		Decision string `json:"decision"`
	}
	raw, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(raw, &ex); err != nil || ex.Class != "destructive" {
		t.Errorf("explain over HTTP: %s (%v)", raw, err)
	}

	// The broker's worker audited both calls, for the client's name.
	recs := e.auditRecords()
	var mine int
	for _, r := range recs {
		if r["agent"] == "e2e-http-agent" && r["kind"] == "decision" {
			mine++
		}
	}
	if mine < 2 {
		t.Errorf("%d decision records for agent e2e-http-agent, want the get and the delete", mine)
	}
}
