package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/testenv"
)

// mcpResult is the structured content of a kubectl/terraform/tofu call.
type mcpResult struct {
	Class     string `json:"class"`
	Decision  string `json:"decision"`
	Rule      string `json:"rule"`
	ExitCode  int    `json:"exitCode"`
	Stdout    string `json:"stdout"`
	Stderr    string `json:"stderr"`
	Note      string `json:"note"`
	Error     string `json:"error"`
	Reason    string `json:"reason"`
	Hint      string `json:"hint"`
	RequestID string `json:"requestId"`
	Approver  string `json:"approver"`
}

// mcpSession starts `agentctl mcp` in e's environment, as an MCP client
// (Claude Code, an IDE) would, and connects to it over its stdio.
// progress, when set, receives the server's progress messages.
func (e *env) mcpSession(progress chan<- string) *mcp.ClientSession {
	e.t.Helper()
	cmd := exec.Command(agentctlBin(e.t), "mcp")
	cmd.Env, cmd.Dir = e.vars, e.dir
	opts := &mcp.ClientOptions{}
	if progress != nil {
		opts.ProgressNotificationHandler = func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			select {
			case progress <- r.Params.Message:
			default:
			}
		}
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "e2e-mcp-agent", Version: "1"}, opts)
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	s, err := c.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		e.t.Fatalf("connect to agentctl mcp: %v", err)
	}
	e.t.Cleanup(func() { s.Close() })
	return s
}

// call calls tool with args and returns its structured result.
func mcpCall(t *testing.T, ctx context.Context, s *mcp.ClientSession, params *mcp.CallToolParams) (*mcp.CallToolResult, mcpResult) {
	t.Helper()
	res, err := s.CallTool(ctx, params)
	if err != nil {
		t.Fatalf("call %s: %v", params.Name, err)
	}
	var out mcpResult
	if res.StructuredContent != nil {
		b, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("call %s: structured content: %v", params.Name, err)
		}
	}
	return res, out
}

func kubectlParams(args ...string) *mcp.CallToolParams {
	return &mcp.CallToolParams{Name: "kubectl", Arguments: map[string]any{"argv": args, "intent": "e2e"}}
}

func textOf(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// TestMCPListsToolsWithSchemas: an MCP client sees agentctl's five tools,
// each run tool taking argv as an array of strings.
func TestMCPListsToolsWithSchemas(t *testing.T) {
	e := newEnv(t)
	s := e.mcpSession(nil)
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	res, err := s.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		b, _ := json.Marshal(tool.InputSchema)
		var schema struct {
			Required   []string `json:"required"`
			Properties map[string]struct {
				Type  any `json:"type"`
				Items *struct {
					Type string `json:"type"`
				} `json:"items"`
				Enum []string `json:"enum"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(b, &schema); err != nil {
			t.Fatalf("%s: input schema: %v", tool.Name, err)
		}
		switch tool.Name {
		case "kubectl", "terraform", "tofu", "explain":
			argv := schema.Properties["argv"]
			if !slices.Contains(schema.Required, "argv") || argv.Items == nil || argv.Items.Type != "string" {
				t.Errorf("%s: argv is not a required array of strings: %s", tool.Name, b)
			}
		}
		if tool.Name == "explain" && !slices.Equal(schema.Properties["tool"].Enum, []string{"kubectl", "terraform", "tofu"}) {
			t.Errorf("explain: tool is not one of kubectl, terraform, tofu: %s", b)
		}
		if tool.Name == "kubectl" && tool.OutputSchema == nil {
			t.Error("kubectl: no output schema")
		}
	}
	slices.Sort(names)
	if want := []string{"audit_log", "explain", "kubectl", "terraform", "tofu"}; !slices.Equal(names, want) {
		t.Errorf("tools %q, want %q", names, want)
	}
}

// TestMCPBadArgumentsRunNothing: a shell string where argv belongs is a
// schema error, and nothing reaches the audit log.
func TestMCPBadArgumentsRunNothing(t *testing.T) {
	e := newEnv(t)
	s := e.mcpSession(nil)
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	for _, args := range []map[string]any{
		{"argv": "get pods; rm -rf /"},
		{"argv": []any{"get", 3}},
		{"args": []string{"get", "pods"}},
	} {
		res, out := mcpCall(t, ctx, s, &mcp.CallToolParams{Name: "kubectl", Arguments: args})
		if !res.IsError || !strings.Contains(textOf(res), `validating "arguments"`) || out.Decision != "" {
			t.Errorf("kubectl %v: error %v, decision %q, want a schema error: %s", args, res.IsError, out.Decision, textOf(res))
		}
	}
	res, _ := mcpCall(t, ctx, s, &mcp.CallToolParams{Name: "explain", Arguments: map[string]any{"tool": "sh", "argv": []string{"-c", "id"}}})
	if !res.IsError {
		t.Errorf("explain of sh: not an error: %s", textOf(res))
	}
	res, _ = mcpCall(t, ctx, s, &mcp.CallToolParams{Name: "audit_log"})
	if strings.Contains(textOf(res), `"decision":{`) {
		t.Errorf("bad arguments reached the audit log: %s", textOf(res))
	}
}

// TestMCPReadRunsInSandbox: a get goes through the pipeline like the CLI's:
// decided sandbox, run, kubectl's own output in the result, audited for
// this agent; explain shows the same decision without running.
func TestMCPReadRunsInSandbox(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	e := newEnv(t)
	kc := c.Kubeconfig(t, testenv.UserAdmin)
	s := e.mcpSession(nil)
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()

	res, out := mcpCall(t, ctx, s, kubectlParams("--kubeconfig", kc, "-n", ns, "get", "cm", "app-config", "-o", "name"))
	if res.IsError || out.ExitCode != 0 || out.Class != "read" || out.Decision != "sandbox" || strings.TrimSpace(out.Stdout) != "configmap/app-config" {
		t.Fatalf("get: %+v", out)
	}
	res, _ = mcpCall(t, ctx, s, &mcp.CallToolParams{Name: "explain", Arguments: map[string]any{"tool": "kubectl", "argv": []string{"--kubeconfig", kc, "-n", ns, "delete", "cm", "app-config"}}})
	var ex struct {
		Class    string `json:"class"`
		Decision string `json:"decision"`
	}
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &ex); err != nil || ex.Class != "destructive" || ex.Decision != "approve" {
		t.Errorf("explain delete: %s (%v)", b, err)
	}
	if !configMapExists(t, c, ns, "app-config") {
		t.Error("explain deleted the configmap")
	}
	res, _ = mcpCall(t, ctx, s, &mcp.CallToolParams{Name: "audit_log", Arguments: map[string]any{"limit": 5}})
	text := textOf(res)
	if !strings.Contains(text, `"agent":"e2e-mcp-agent"`) || !strings.Contains(text, out.RequestID) {
		t.Errorf("audit_log lacks the get %s of agent e2e-mcp-agent: %s", out.RequestID, text)
	}
}

// TestMCPDeleteRefusedInCI: in CI nobody can approve, so the delete is
// refused with the reason, the rule and the hint CI gets, and the object
// stays.
func TestMCPDeleteRefusedInCI(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	e := newEnv(t) // CI=true
	kc := c.Kubeconfig(t, testenv.UserAdmin)
	s := e.mcpSession(nil)
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	res, out := mcpCall(t, ctx, s, kubectlParams("--kubeconfig", kc, "-n", ns, "delete", "cm", "app-config"))
	if !res.IsError || out.ExitCode != exitDenied || out.Decision != "deny" || out.Class != "destructive" ||
		out.Rule == "" || !strings.Contains(out.Reason, "non-interactive") || !strings.Contains(out.Hint, "decision: allow") {
		t.Errorf("delete in CI: %+v", out)
	}
	if !configMapExists(t, c, ns, "app-config") {
		t.Error("the configmap was deleted")
	}
}

// mcpInboxEnv is newEnv where a human can be asked: no CI, its own
// runtime directory for the inbox's socket.
func mcpInboxEnv(t *testing.T) *env {
	e := newEnv(t)
	e.vars = slices.DeleteFunc(e.vars, func(kv string) bool { return kv == "CI=true" })
	e.vars = append(e.vars, "XDG_RUNTIME_DIR="+t.TempDir())
	return e
}

// TestMCPDeleteApprovedInInbox: the delete waits in agentctl inbox, the
// client hears that it waits, and once the human approves it runs.
func TestMCPDeleteApprovedInInbox(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	e := mcpInboxEnv(t)
	kc := c.Kubeconfig(t, testenv.UserAdmin)
	srv, ictx := testInbox(t, e.vars)
	progress := make(chan string, 16)
	s := e.mcpSession(progress)
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	go func() {
		select {
		case p := <-srv.Requests():
			// The client was told it waits before anyone answers.
			select {
			case msg := <-progress:
				if !strings.Contains(msg, "agentctl inbox") {
					t.Errorf("progress %q does not name the inbox", msg)
				}
			case <-ictx.Done():
			}
			p.Answer(approve.Verdict{Approved: true})
		case <-ictx.Done():
		}
	}()
	params := kubectlParams("--kubeconfig", kc, "-n", ns, "delete", "cm", "app-config")
	params.SetProgressToken("delete-1")
	res, out := mcpCall(t, ctx, s, params)
	if res.IsError || out.ExitCode != 0 || out.Decision != "approve" || out.Approver != "e2e-human" || !strings.Contains(out.Stdout, `configmap "app-config" deleted`) {
		t.Errorf("approved delete: %+v", out)
	}
	if configMapExists(t, c, ns, "app-config") {
		t.Error("the configmap is still there")
	}
}

// TestMCPCancelWithdrawsApproval: a client that cancels a call waiting for
// a human withdraws it from the inbox; the refusal is audited and nothing
// runs.
func TestMCPCancelWithdrawsApproval(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	e := mcpInboxEnv(t)
	kc := c.Kubeconfig(t, testenv.UserAdmin)
	srv, ictx := testInbox(t, e.vars)
	s := e.mcpSession(nil)
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	callCtx, cancelCall := context.WithCancel(ctx)
	called := make(chan error, 1)
	go func() {
		_, err := s.CallTool(callCtx, kubectlParams("--kubeconfig", kc, "-n", ns, "delete", "cm", "app-config"))
		called <- err
	}()
	var p *approve.Pending
	select {
	case p = <-srv.Requests():
	case <-ictx.Done():
		t.Fatal("no request reached the inbox")
	}
	cancelCall()
	if err := <-called; err == nil {
		t.Error("the cancelled call returned no error")
	}
	select {
	case <-p.Gone():
	case <-ctx.Done():
		t.Fatal("the inbox still holds the cancelled request")
	}
	if err := p.Answer(approve.Verdict{Approved: true}); err == nil {
		t.Error("the withdrawn request could still be approved")
	}
	// The refusal is written once the server has seen the cancellation.
	for {
		res, _ := mcpCall(t, ctx, s, &mcp.CallToolParams{Name: "audit_log"})
		if text := textOf(res); strings.Contains(text, "interrupted while waiting for approval") {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("no audit record of the withdrawn approval")
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !configMapExists(t, c, ns, "app-config") {
		t.Error("the cancelled delete ran")
	}
}

// TestMCPHugeOutputIsCut: a 10 MB get comes back cut to a size an agent's
// context can take, with a note saying so and how to see the rest.
func TestMCPHugeOutputIsCut(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	var m strings.Builder
	for i := range 11 {
		fmt.Fprintf(&m, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: big-%d}\ndata: {blob: %s}\n", i, strings.Repeat("x", 950_000))
	}
	c.Apply(t, ns, m.String())
	e := newEnv(t)
	kc := c.Kubeconfig(t, testenv.UserAdmin)
	s := e.mcpSession(nil)
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	res, out := mcpCall(t, ctx, s, kubectlParams("--kubeconfig", kc, "-n", ns, "get", "cm", "-o", "yaml"))
	if res.IsError || out.ExitCode != 0 {
		t.Fatalf("get: %+v", out.Error)
	}
	if len(out.Stdout) > 1<<20 || len(out.Stdout) < 1<<19 {
		t.Errorf("stdout is %d bytes, want cut to at most 1 MiB", len(out.Stdout))
	}
	if !strings.Contains(out.Note, "stdout cut to its first") || !strings.Contains(out.Note, "narrow the command") {
		t.Errorf("note %q does not say stdout was cut", out.Note)
	}
}

// TestMCPApprovalTimesOutLikeTheCLI: AGENTCTL_APPROVAL_TIMEOUT bounds the
// wait as it does for the CLI; unanswered, the delete is refused.
func TestMCPApprovalTimesOutLikeTheCLI(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	e := mcpInboxEnv(t)
	e.vars = append(e.vars, "AGENTCTL_APPROVAL_TIMEOUT=1s")
	kc := c.Kubeconfig(t, testenv.UserAdmin)
	testInbox(t, e.vars) // nobody answers
	s := e.mcpSession(nil)
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	res, out := mcpCall(t, ctx, s, kubectlParams("--kubeconfig", kc, "-n", ns, "delete", "cm", "app-config"))
	if !res.IsError || out.ExitCode != exitDenied || out.Decision != "deny" || !strings.Contains(out.Reason, "timed out") || out.Approver != "inbox" {
		t.Errorf("unanswered delete: %+v", out)
	}
	if !configMapExists(t, c, ns, "app-config") {
		t.Error("the unanswered delete ran")
	}
}

// TestMCPDocsConfigServes starts agentctl mcp as the .mcp.json block of
// docs/agents.md says (command, args, env), as Claude Code would, and
// lists its tools.
func TestMCPDocsConfigServes(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "agents.md"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		MCPServers map[string]struct {
			Type    string            `json:"type"`
			Command string            `json:"command"`
			Args    []string          `json:"args"`
			Env     map[string]string `json:"env"`
		} `json:"mcpServers"`
	}
	for _, block := range strings.Split(string(doc), "```json\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		if strings.Contains(block, `"mcpServers"`) {
			if err := json.Unmarshal([]byte(block), &cfg); err != nil {
				t.Fatalf("the .mcp.json block does not parse: %v\n%s", err, block)
			}
			break
		}
	}
	srv, ok := cfg.MCPServers["agentctl"]
	if !ok || srv.Command != "agentctl" || srv.Type != "stdio" {
		t.Fatalf("docs/agents.md has no stdio agentctl server: %+v", cfg)
	}
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	s := configuredServer(t, ctx, e, srv.Args, srv.Env, "claude-code")
	got, _ := mcpCall(t, ctx, s, &mcp.CallToolParams{Name: "audit_log"})
	if text := textOf(got); !strings.Contains(text, `"agent":"`+srv.Env["AGENTCTL_AGENT"]+`"`) {
		t.Errorf("audit_log is not of the agent the config names: %s", text)
	}
}

// TestMCPCodexDocsConfigServes runs the `codex mcp add` line of
// docs/agents.md with the real Codex CLI, starts the server exactly as
// Codex then describes it (`codex mcp get --json`), lists its tools and
// finds its calls audited for the agent the line names.
func TestMCPCodexDocsConfigServes(t *testing.T) {
	codex := testenv.Bin(t, "codex")
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "agents.md"))
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(l, "codex mcp add ") {
			line = l
			break
		}
	}
	words := strings.Fields(line)
	if len(words) < 4 {
		t.Fatalf("docs/agents.md has no codex mcp add line")
	}
	e := newEnv(t)
	codexHome := filepath.Join(e.home, ".codex")
	if err := os.MkdirAll(codexHome, 0o700); err != nil {
		t.Fatal(err)
	}
	codexEnv := append(append([]string{}, e.vars...), "CODEX_HOME="+codexHome)
	add := exec.Command(codex, words[1:]...)
	add.Env, add.Dir = codexEnv, e.dir
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	get := exec.Command(codex, "mcp", "get", "agentctl", "--json")
	get.Env, get.Dir = codexEnv, e.dir
	out, err := get.Output()
	if err != nil {
		t.Fatalf("codex mcp get: %v", err)
	}
	var srv struct {
		Enabled   bool `json:"enabled"`
		Transport struct {
			Type    string            `json:"type"`
			Command string            `json:"command"`
			Args    []string          `json:"args"`
			Env     map[string]string `json:"env"`
		} `json:"transport"`
	}
	if err := json.Unmarshal(out, &srv); err != nil || !srv.Enabled || srv.Transport.Type != "stdio" || srv.Transport.Command != "agentctl" {
		t.Fatalf("codex mcp get: %s (%v)", out, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	s := configuredServer(t, ctx, e, srv.Transport.Args, srv.Transport.Env, "codex-mcp-client")
	agent := srv.Transport.Env["AGENTCTL_AGENT"]
	if agent != "codex" {
		t.Errorf("the docs' line names agent %q, want codex", agent)
	}
	if res, out := mcpCall(t, ctx, s, kubectlParams("version", "--client")); res.IsError {
		t.Fatalf("kubectl version --client: %+v", out)
	}
	got, _ := mcpCall(t, ctx, s, &mcp.CallToolParams{Name: "audit_log"})
	if text := textOf(got); !strings.Contains(text, `"agent":"codex"`) {
		t.Errorf("audit_log is not of the agent codex: %s", text)
	}
}

// configuredServer starts agentctl with args and env as an agent's MCP
// configuration says, in e's environment, connects to it as the client
// name and checks that it lists agentctl's five tools.
func configuredServer(t *testing.T, ctx context.Context, e *env, args []string, env map[string]string, name string) *mcp.ClientSession {
	t.Helper()
	cmd := exec.Command(agentctlBin(t), args...)
	cmd.Env, cmd.Dir = e.vars, e.dir
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	c := mcp.NewClient(&mcp.Implementation{Name: name, Version: "1"}, nil)
	s, err := c.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	res, err := s.ListTools(ctx, nil)
	if err != nil || len(res.Tools) != 5 {
		t.Fatalf("tools: %v, %v", res, err)
	}
	return s
}
