package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/audit"
	"github.com/agentctl/agentctl/pkg/pipeline"
	"github.com/agentctl/agentctl/pkg/redact"
	"github.com/agentctl/agentctl/pkg/run"
)

// maxToolOutput bounds what one stream (stdout, stderr) of a tool call
// sends back to the MCP client; the rest is counted, not kept.
const maxToolOutput = 1 << 20

// progressEvery is how often a call waiting for a human reports that it
// still waits.
const progressEvery = 10 * time.Second

func newMCPCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "mcp",
		Short: "Serve kubectl, terraform and tofu to an MCP client on stdio, through agentctl's pipeline",
		Long: `Mcp is a Model Context Protocol server on standard input and output.
Its tools kubectl, terraform and tofu take the tool's arguments as an
array of strings (never a shell string), optional stdin and an optional
intent, and go through the same pipeline as "agentctl kubectl …": the
same classification, policy, sandbox, audit log and approvers. A call
that needs a human waits in "agentctl inbox" (the MCP client can never
answer it), reports progress while it waits, and is withdrawn when the
client cancels it. In non-interactive mode (CI=true) it is denied.

The tools explain and audit_log show how a command would be decided and
this agent's recent audit records. The agent's name is --agent, else
AGENTCTL_AGENT, else the client's own name. See docs/agents.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s := newMCPServer(f)
			return s.Run(cmd.Context(), &mcp.IOTransport{Reader: nopCloser{f.IO.In}, Writer: nopWriteCloser{f.IO.Out}})
		},
	}
}

type nopCloser struct{ io.Reader }

func (nopCloser) Close() error { return nil }

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// runInput is what the kubectl, terraform and tofu tools take.
type runInput struct {
	Argv   []string `json:"argv" jsonschema:"the tool's arguments after its name, one element each (never a shell string), e.g. [\"-n\",\"web\",\"get\",\"pods\"]"`
	Stdin  *string  `json:"stdin,omitempty" jsonschema:"the command's standard input (a manifest for -f -); empty when not given"`
	Intent string   `json:"intent,omitempty" jsonschema:"why the agent runs this command: shown to the approver and audited"`
}

// runOutput is a tool call's structured result.
type runOutput struct {
	// Class, Decision and Rule are the assessment and the policy's
	// decision; Decision is "deny" whenever the command was refused.
	Class    string `json:"class"`
	Decision string `json:"decision"`
	Rule     string `json:"rule"`
	// ExitCode is the tool's exit code when it ran, else agentctl's
	// (77 denied, 78 configuration, 74 audit, 70 internal).
	ExitCode int    `json:"exitCode"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
	// Note says what was cut from stdout or stderr.
	Note string `json:"note,omitempty"`
	// Error, Reason and Hint are set when the command did not run.
	Error     string `json:"error,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Hint      string `json:"hint,omitempty"`
	RequestID string `json:"requestId,omitempty"`
	Approver  string `json:"approver,omitempty"`
}

type explainInput struct {
	Tool  string   `json:"tool" jsonschema:"kubectl, terraform or tofu"`
	Argv  []string `json:"argv" jsonschema:"the tool's arguments after its name, one element each"`
	Stdin *string  `json:"stdin,omitempty" jsonschema:"the standard input the command would read"`
}

type auditLogInput struct {
	Limit int    `json:"limit,omitempty" jsonschema:"how many of the most recent requests (default 20, at most 200)"`
	Since string `json:"since,omitempty" jsonschema:"only requests newer than a duration (2h) or an RFC 3339 time"`
}

// newMCPServer returns the MCP server of `agentctl mcp`: every call gets
// its own pipeline from the same configuration the CLI reads.
func newMCPServer(f *Factory) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "agentctl", Version: version}, &mcp.ServerOptions{
		Instructions: "kubectl, terraform and tofu run through agentctl: classified, checked against policy, sandboxed when they read, approved by a human when they change something, audited. " +
			"Pass arguments as an array, never a shell string. A refusal comes back with a reason and a hint: follow the hint rather than retrying the same command.",
	})
	for _, tool := range []string{"kubectl", "terraform", "tofu"} {
		mcp.AddTool(s, &mcp.Tool{
			Name:        tool,
			Description: fmt.Sprintf("Run %s through agentctl's pipeline. Reads run sandboxed; changes may wait for a human to approve them in agentctl inbox.", tool),
		}, mcpRun(f, tool))
	}
	mcp.AddTool(s, &mcp.Tool{
		Name:        "explain",
		Description: "Show how agentctl would classify and decide a command, without running it.",
		InputSchema: explainSchema(),
	}, mcpExplain(f))
	mcp.AddTool(s, &mcp.Tool{
		Name:        "audit_log",
		Description: "This agent's most recent audited requests: decision and result records.",
	}, mcpAuditLog(f))
	return s
}

func explainSchema() *jsonschema.Schema {
	s, err := jsonschema.For[explainInput](nil)
	if err != nil {
		panic(err) // a fixed type: a programming error
	}
	s.Properties["tool"].Enum = []any{"kubectl", "terraform", "tofu"}
	return s
}

// callFactory is f for one tool call: its own streams (the process's are
// the protocol), no terminal to ask a human on (it is the MCP client's),
// the call's intent and the agent's name.
func callFactory(f *Factory, req *mcp.CallToolRequest, in io.Reader, out, errOut io.Writer, intent string) *Factory {
	g := f.Global
	g.Output = ""
	if intent != "" {
		g.Intent = intent
	}
	if g.Agent == "" && req != nil && req.Session != nil {
		if ip := req.Session.InitializeParams(); ip != nil && ip.ClientInfo != nil {
			g.Agent = ip.ClientInfo.Name
		}
	}
	return &Factory{
		IO:         &IOStreams{In: in, Out: out, ErrOut: errOut},
		Environ:    f.Environ,
		Executable: f.Executable,
		Getwd:      f.Getwd,
		Global:     g,
		AdminDir:   f.AdminDir,
		noTTY:      true,
	}
}

func stdinOf(s *string) io.Reader {
	if s == nil {
		// Never the process's stdin: that is the protocol.
		return strings.NewReader("")
	}
	return strings.NewReader(*s)
}

func mcpRun(f *Factory, tool string) mcp.ToolHandlerFor[runInput, runOutput] {
	return func(ctx context.Context, req *mcp.CallToolRequest, in runInput) (*mcp.CallToolResult, runOutput, error) {
		if c, err := brokerConn(f); err != nil {
			return refusal(f, err, nil, &cappedBuffer{}, &cappedBuffer{})
		} else if c != nil {
			return brokerRun(ctx, f, c, req, tool, in)
		}
		stdout, stderr := &cappedBuffer{max: maxToolOutput}, &cappedBuffer{max: maxToolOutput}
		stdin := stdinOf(in.Stdin)
		cf := callFactory(f, req, stdin, stdout, stderr, in.Intent)
		r, err := newRequest(cf, tool, in.Argv)
		if err != nil {
			return refusal(cf, err, nil, stdout, stderr)
		}
		p, cleanup, err := newPipeline(cf)
		if err != nil {
			return refusal(cf, err, nil, stdout, stderr)
		}
		defer cleanup()
		p.Prestart = true
		rec := &decisionRecorder{Auditor: p.Auditor}
		p.Auditor = rec
		p.Approver = &progressApprover{Approver: p.Approver, notify: progressTo(ctx, req)}
		code, err := p.Run(ctx, r, run.Stdio{Stdin: stdin, Stdout: stdout, Stderr: stderr})
		if err != nil {
			return refusal(cf, err, rec.ev, stdout, stderr)
		}
		out := runOutput{ExitCode: code, RequestID: r.ID}
		fillDecision(&out, rec.ev)
		out.Stdout, out.Stderr, out.Note = stdout.String(), stderr.String(), cutNote(stdout, stderr)
		return &mcp.CallToolResult{IsError: code != 0}, out, nil
	}
}

// refusal is the result of a call that did not run (or whose result could
// not be audited): the error as the CLI prints it, with its reason, hint
// and exit code.
func refusal(f *Factory, err error, ev *pipeline.Event, stdout, stderr *cappedBuffer) (*mcp.CallToolResult, runOutput, error) {
	err = withModeHint(f, err)
	out := runOutput{ExitCode: exitCode(err), Error: err.Error()}
	fillDecision(&out, ev)
	var h hinted
	if errors.As(err, &h) {
		out.Hint = h.Hint()
	}
	var d *pipeline.DeniedError
	if errors.As(err, &d) {
		out.Decision, out.Rule, out.Reason, out.RequestID = "deny", d.Decision.Rule, d.Message, d.RequestID
		if d.Assessment != nil {
			out.Class = d.Assessment.Class.String()
		}
		if d.Answer != nil {
			out.Approver = d.Answer.Channel
		}
		if te := d.ToolError(); te != nil {
			// The tool's own words, as the CLI prints them.
			stderr.WriteString(te.Stderr)
		}
	}
	out.Stdout, out.Stderr, out.Note = stdout.String(), stderr.String(), cutNote(stdout, stderr)
	return &mcp.CallToolResult{IsError: true}, out, nil
}

func fillDecision(out *runOutput, ev *pipeline.Event) {
	if ev == nil {
		return
	}
	if ev.Assessment != nil {
		out.Class = ev.Assessment.Class.String()
	}
	out.Decision, out.Rule = string(ev.Decision.Action), ev.Decision.Rule
	if ev.Req != nil {
		out.RequestID = ev.Req.ID
	}
	if ev.Answer != nil {
		out.Approver = ev.Answer.Approver
		if out.Approver == "" {
			out.Approver = ev.Answer.Channel
		}
	}
}

// decisionRecorder keeps the decision event the pipeline audits, so a
// call's result can name its class, decision and rule.
type decisionRecorder struct {
	pipeline.Auditor
	ev *pipeline.Event
}

func (d *decisionRecorder) Decision(ev *pipeline.Event) error {
	d.ev = ev
	return d.Auditor.Decision(ev)
}

// progressTo sends MCP progress notifications for req, when its client
// asked for them (a progress token).
func progressTo(ctx context.Context, req *mcp.CallToolRequest) func(n int, msg string) {
	if req == nil || req.Session == nil || req.Params == nil {
		return nil
	}
	tok := req.Params.GetProgressToken()
	if tok == nil {
		return nil
	}
	return func(n int, msg string) {
		req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: tok, Progress: float64(n), Message: msg})
	}
}

// everyProgress calls notify every progressEvery, with msg of the time
// since it started, until ctx ends or stop is called.
func everyProgress(ctx context.Context, notify func(n int, msg string), msg func(time.Duration) string) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		start := time.Now()
		for n := 1; ; n++ {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				notify(n, msg(time.Since(start)))
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

// progressApprover reports, while a human is asked, that the call waits
// for one. The answer is the wrapped approver's.
type progressApprover struct {
	approve.Approver
	notify func(n int, msg string)
}

// Unattended keeps a signed-proposal approver answering in
// non-interactive mode (see pipeline.Pipeline.approve).
func (p *progressApprover) Unattended() approve.Approver {
	if u, ok := p.Approver.(interface{ Unattended() approve.Approver }); ok {
		return u.Unattended()
	}
	return approve.None{}
}

func (p *progressApprover) Approve(ctx context.Context, r *approve.Request) (approve.Answer, error) {
	if _, none := p.Approver.(approve.None); none || p.Approver == nil || p.notify == nil {
		if p.Approver == nil {
			return approve.None{}.Approve(ctx, r)
		}
		return p.Approver.Approve(ctx, r)
	}
	id := r.Hash
	if r.Req != nil && r.Req.ID != "" {
		id = r.Req.ID
	}
	msg := fmt.Sprintf("waiting for a human to approve in agentctl inbox (request %.12s, denied at %s if unanswered)", id, r.Expires.UTC().Format(time.TimeOnly+" UTC"))
	p.notify(0, msg)
	defer everyProgress(ctx, p.notify, func(time.Duration) string { return msg })()
	return p.Approver.Approve(ctx, r)
}

func mcpExplain(f *Factory) mcp.ToolHandlerFor[explainInput, any] {
	return func(ctx context.Context, req *mcp.CallToolRequest, in explainInput) (*mcp.CallToolResult, any, error) {
		if c, err := brokerConn(f); err != nil {
			return nil, nil, err
		} else if c != nil {
			return brokerExplain(ctx, f, c, in)
		}
		var stderr bytes.Buffer
		stdin := stdinOf(in.Stdin)
		cf := callFactory(f, req, stdin, io.Discard, &stderr, "")
		r, err := newRequest(cf, in.Tool, in.Argv)
		if err != nil {
			return nil, nil, err
		}
		p, cleanup, err := newPipeline(cf)
		if err != nil {
			return nil, nil, toolError(err)
		}
		defer cleanup()
		a, d, err := p.Assess(ctx, r)
		if a != nil && p.Cleanup != nil {
			defer p.Cleanup(a)
		}
		if err != nil {
			return nil, nil, toolError(err)
		}
		var buf bytes.Buffer
		if err := writeExplainJSON(&buf, a, d); err != nil {
			return nil, nil, err
		}
		return nil, redactedJSON(buf.Bytes()), nil
	}
}

func mcpAuditLog(f *Factory) mcp.ToolHandlerFor[auditLogInput, any] {
	return func(ctx context.Context, req *mcp.CallToolRequest, in auditLogInput) (*mcp.CallToolResult, any, error) {
		limit := in.Limit
		switch {
		case limit == 0:
			limit = 20
		case limit < 0 || limit > 200:
			return nil, nil, fmt.Errorf("invalid limit %d: want 1 to 200", in.Limit)
		}
		cf := callFactory(f, req, stdinOf(nil), io.Discard, io.Discard, "")
		o := auditLogOptions{since: in.Since, agent: cf.Global.Agent}
		fl, err := o.filter(time.Now())
		if err != nil {
			return nil, nil, toolError(err)
		}
		file, path, err := readAuditLog(cf, "")
		if errors.Is(err, fs.ErrNotExist) {
			// Nothing audited yet.
			return nil, map[string]any{"agent": cf.Global.Agent, "requests": []any{}}, nil
		}
		if err != nil {
			return nil, nil, toolError(err)
		}
		defer file.Close()
		entries, err := audit.Requests(file, fl)
		if err != nil {
			return nil, nil, fmt.Errorf("cannot read audit log %q: %w", path, err)
		}
		if len(entries) > limit {
			entries = entries[len(entries)-limit:]
		}
		type request struct {
			Decision json.RawMessage `json:"decision"`
			Result   json.RawMessage `json:"result,omitempty"`
		}
		reqs := []request{}
		for _, e := range entries {
			r := request{Decision: redactedJSON(e.DecisionLine)}
			if e.ResultLine != nil {
				r.Result = redactedJSON(e.ResultLine)
			}
			reqs = append(reqs, r)
		}
		b, err := json.Marshal(map[string]any{"agent": cf.Global.Agent, "requests": reqs})
		if err != nil {
			return nil, nil, err
		}
		return nil, json.RawMessage(b), nil
	}
}

// toolError is err with its hint, as the one line the CLI would print.
func toolError(err error) error {
	var h hinted
	if errors.As(err, &h) && h.Hint() != "" {
		return fmt.Errorf("%v\nhint: %s", err, h.Hint())
	}
	return err
}

// redactedJSON is b through the redactor that guards everything agentctl
// sends back; what no longer parses as JSON (it should not happen) is
// sent as a string.
func redactedJSON(b []byte) json.RawMessage {
	var buf bytes.Buffer
	w := redact.New(redact.Options{}).Writer(&buf)
	w.Write(b)
	w.Close()
	out := bytes.TrimSpace(buf.Bytes())
	if !json.Valid(out) {
		q, _ := json.Marshal(string(out))
		return q
	}
	return out
}

// cappedBuffer keeps the first max bytes written to it and counts the
// rest, so a command with a huge output still runs to its end.
type cappedBuffer struct {
	buf   bytes.Buffer
	max   int
	total int64
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	c.total += int64(len(p))
	if room := c.max - c.buf.Len(); room > 0 {
		if len(p) < room {
			room = len(p)
		}
		c.buf.Write(p[:room])
	}
	return len(p), nil
}

func (c *cappedBuffer) WriteString(s string) (int, error) { return c.Write([]byte(s)) }

// String is what was kept, cut back to whole UTF-8 characters.
func (c *cappedBuffer) String() string {
	b := c.buf.Bytes()
	if c.cut() {
		for i := 0; i < 4 && len(b) > 0 && !utf8Complete(b); i++ {
			b = b[:len(b)-1]
		}
	}
	return string(b)
}

func (c *cappedBuffer) cut() bool { return c.total > int64(c.buf.Len()) }

func utf8Complete(b []byte) bool {
	// The last rune is complete unless a lead byte stands within the last
	// three bytes without all its continuation bytes.
	for i := 1; i <= 3 && i <= len(b); i++ {
		c := b[len(b)-i]
		if c < 0x80 {
			return true
		}
		if c >= 0xC0 {
			need := 2
			switch {
			case c >= 0xF0:
				need = 4
			case c >= 0xE0:
				need = 3
			}
			return i >= need
		}
	}
	return true
}

// cutNote says which streams were cut, and how to see the rest.
func cutNote(stdout, stderr *cappedBuffer) string {
	var parts []string
	for _, s := range []struct {
		name string
		c    *cappedBuffer
	}{{"stdout", stdout}, {"stderr", stderr}} {
		if s.c.cut() {
			parts = append(parts, fmt.Sprintf("%s cut to its first %d of %d bytes", s.name, s.c.buf.Len(), s.c.total))
		}
	}
	if parts == nil {
		return ""
	}
	return strings.Join(parts, "; ") + ": narrow the command (a label selector, -o name, --tail, a smaller plan) to see the rest"
}
