package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentctl/agentctl/pkg/pipeline"
	"github.com/agentctl/agentctl/pkg/request"
	"github.com/agentctl/agentctl/pkg/run"
)

// newToolCmd returns `agentctl kubectl|terraform|tofu ARGS…`. Everything
// after the tool name goes to the pipeline verbatim: agentctl's own flags
// come before the tool name.
func newToolCmd(f *Factory, tool string) *cobra.Command {
	short := map[string]string{
		"kubectl":   "Run kubectl (embedded) through agentctl's pipeline",
		"terraform": "Run terraform through agentctl's pipeline",
		"tofu":      "Run OpenTofu through agentctl's pipeline",
	}[tool]
	return &cobra.Command{
		Use:                tool + " [args...]",
		Short:              short,
		DisableFlagParsing: true,
		ValidArgsFunction:  completeTool(tool),
		RunE: func(cmd *cobra.Command, args []string) error {
			req, err := newRequest(f, tool, args)
			if err != nil {
				return err
			}
			return toolRun(cmd, f, req)
		},
	}
}

// newRequest builds the pipeline's first value from the process state.
func newRequest(f *Factory, tool string, args []string) (*request.Request, error) {
	cwd, err := f.Getwd()
	if err != nil {
		return nil, err
	}
	if args == nil {
		args = []string{}
	}
	return &request.Request{
		ID:     request.NewID(),
		Time:   time.Now().UTC(),
		Tool:   tool,
		Args:   args,
		Stdin:  f.IO.In,
		Cwd:    cwd,
		Env:    f.Environ,
		Agent:  f.Global.Agent,
		Intent: f.Global.Intent,
	}, nil
}

func toolRun(cmd *cobra.Command, f *Factory, req *request.Request) error {
	p, cleanup, err := newPipeline(f)
	if err != nil {
		return err
	}
	defer cleanup()
	p.Prestart = true
	var rec *decisionRecorder
	if f.Global.ReportResult {
		rec = &decisionRecorder{Auditor: p.Auditor}
		p.Auditor = rec
	}
	code, err := p.Run(cmd.Context(), req, run.Stdio{Stdin: f.IO.In, Stdout: f.IO.Out, Stderr: f.IO.ErrOut})
	if err != nil {
		return withModeHint(f, err)
	}
	if rec != nil {
		writeResultLine(f.IO.ErrOut, rec.ev, code)
	}
	if code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}

// resultLine is what --report-result writes after a command that ran:
// the decision that let it run, for a caller that cannot read the audit
// log (agentctl mcp in a jail, whose calls a broker's worker runs).
type resultLine struct {
	Agentctl  string `json:"agentctl"` // "result"
	ExitCode  int    `json:"exitCode"`
	Class     string `json:"class"`
	Decision  string `json:"decision"`
	Rule      string `json:"rule"`
	RequestID string `json:"requestId"`
	Approver  string `json:"approver,omitempty"`
}

func writeResultLine(w io.Writer, ev *pipeline.Event, code int) {
	var out runOutput
	fillDecision(&out, ev)
	b, _ := json.Marshal(resultLine{Agentctl: "result", ExitCode: code, Class: out.Class, Decision: out.Decision,
		Rule: out.Rule, RequestID: out.RequestID, Approver: out.Approver})
	fmt.Fprintf(w, "%s\n", b)
}
