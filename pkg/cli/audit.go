package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentctl/agentctl/pkg/audit"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/termsafe"
)

func newAuditCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Verify and read the audit log",
		Long: `The audit log holds one record before each command runs (the decision)
and one after (the result), each chained to the one before it by SHA-256.
It lives in $XDG_STATE_HOME/agentctl/audit.jsonl (or
~/.local/state/agentctl/audit.jsonl; AGENTCTL_AUDIT_LOG overrides, and
audit.path in the root-owned /etc/agentctl/config.yaml overrides both).
See docs/audit.md for the record schema.`,
	}
	cmd.AddCommand(newAuditVerifyCmd(f), newAuditLogCmd(f), newAuditTailCmd(f), newAuditExportCmd(f), newAuditReportCmd(f))
	return cmd
}

func auditPath(f *Factory, file string) (string, error) {
	if file != "" {
		return file, nil
	}
	return defaultAuditPath(f)
}

// readAuditLog opens file, or this process's audit log when file is "",
// for reading.
func readAuditLog(f *Factory, file string) (*os.File, string, error) {
	path, err := auditPath(f, file)
	if err != nil {
		return nil, "", err
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, "", fmt.Errorf("cannot read audit log: %w", err)
	}
	return fh, path, nil
}

func newAuditVerifyCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "verify [FILE]",
		Short: "Check the audit log's hash chain and name the first broken record",
		Long: `Verify reads the whole log and checks that every record's prev is the
SHA-256 of the record before it, from the genesis value on. It exits 0 when
the chain holds, and 1 naming the first broken record (edited, deleted,
inserted, reordered) or a torn last line (a writer crashed mid-write; the
next append repairs it).

It also lists the decisions to run a command that no result record
follows, as "unfinished": the command is still running, or agentctl was
killed before it could record the result (its command died with it).
They do not change the exit code: the chain holds.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file, path, err := readAuditLog(f, strings.Join(args, ""))
			if err != nil {
				return err
			}
			defer file.Close()
			rep, err := audit.Verify(file)
			if err != nil {
				return fmt.Errorf("cannot read audit log %q: %w", path, err)
			}
			if f.Global.JSON() {
				out := struct {
					File string `json:"file"`
					OK   bool   `json:"ok"`
					audit.Report
				}{path, rep.OK(), rep}
				b, _ := json.Marshal(out)
				fmt.Fprintf(f.IO.Out, "%s\n", b)
			} else {
				writeVerifyText(f.IO.Out, path, &rep)
			}
			if !rep.OK() {
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
}

func writeVerifyText(w io.Writer, path string, rep *audit.Report) {
	for _, r := range rep.Repairs {
		fmt.Fprintf(w, "note: line %d repairs torn line(s) %v left by a crashed writer\n", r.Line, r.Torn)
	}
	if rep.Broken != nil {
		fmt.Fprintf(w, "%s: BROKEN: %s\n", path, rep.Broken.Msg)
	}
	if t := rep.TornTail; t != nil {
		fmt.Fprintf(w, "%s: TORN: %d line(s) from line %d (%d bytes) are not complete records: a writer crashed mid-write or the file was truncated; the next append records a repair\n", path, t.Lines, t.Line, t.Bytes)
	}
	if rep.OK() {
		fmt.Fprintf(w, "%s: OK: %d records, chain intact\n", path, rep.Records)
	}
	if n := len(rep.Unfinished); n > 0 {
		fmt.Fprintf(w, "%s: unfinished: %d decision(s) with no result: still running, or agentctl was killed before it recorded the result\n", path, n)
		for _, u := range rep.Unfinished {
			fmt.Fprintf(w, "  line %d: request %s at %s\n", u.Line, termsafe.Line(u.ID), termsafe.Line(u.Time))
		}
	}
}

type auditLogOptions struct {
	file, since, agent, class, decision string
}

func (o *auditLogOptions) filter(now time.Time) (audit.Filter, error) {
	var fl audit.Filter
	if o.since != "" {
		t, err := parseSince(o.since, now)
		if err != nil {
			return fl, err
		}
		fl.Since = t
	}
	if o.class != "" {
		c, err := classify.ParseClass(o.class)
		if err != nil {
			return fl, &UsageError{Err: fmt.Errorf("invalid --class: %w", err)}
		}
		fl.Class = &c
	}
	switch o.decision {
	case "", "allow", "sandbox", "approve", "deny":
	default:
		return fl, &UsageError{Err: fmt.Errorf("invalid --decision %q: want allow, sandbox, approve or deny", o.decision)}
	}
	fl.Agent, fl.Decision = o.agent, o.decision
	return fl, nil
}

func newAuditLogCmd(f *Factory) *cobra.Command {
	var o auditLogOptions
	cmd := &cobra.Command{
		Use:   "log [--since D] [--agent A] [--class C] [--decision D]",
		Short: "List audited requests",
		Long: `Log lists one row per request: when, which agent, its class, the
decision, the exit code (- while running or when it never ran) and the
command with secrets masked. With --output json it prints the matching
records themselves, one per line.`,
		Example: `  agentctl audit log --since 24h --decision deny
  agentctl audit log --agent claude --class destructive --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fl, err := o.filter(time.Now())
			if err != nil {
				return err
			}
			file, path, err := readAuditLog(f, o.file)
			if err != nil {
				return err
			}
			defer file.Close()
			entries, err := audit.Requests(file, fl)
			if err != nil {
				return fmt.Errorf("cannot read audit log %q: %w", path, err)
			}
			if f.Global.JSON() {
				for _, e := range entries {
					fmt.Fprintf(f.IO.Out, "%s\n", e.DecisionLine)
					if e.ResultLine != nil {
						fmt.Fprintf(f.IO.Out, "%s\n", e.ResultLine)
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(f.IO.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME\tAGENT\tCLASS\tDECISION\tEXIT\tCOMMAND")
			for _, e := range entries {
				d := e.Decision
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Time.Local().Format(time.DateTime),
					termsafe.Line(dash(d.Agent)), className(d), termsafe.Line(decisionText(d)), exitText(e.Result), termsafe.Line(d.Command()))
			}
			return tw.Flush()
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.file, "file", "", "the log to read (default: the configured audit log)")
	fs.StringVar(&o.since, "since", "", "only requests newer than a duration (2h) or an RFC 3339 time")
	fs.StringVar(&o.agent, "agent", "", "only requests of this agent")
	fs.StringVar(&o.class, "class", "", "only requests of this class (read, write, destructive, exec, secret, privilege, unknown)")
	fs.StringVar(&o.decision, "decision", "", "only requests with this decision (allow, sandbox, approve, deny)")
	return cmd
}

func newAuditTailCmd(f *Factory) *cobra.Command {
	var (
		file   string
		n      int
		follow bool
	)
	cmd := &cobra.Command{
		Use:   "tail [-f] [-n N]",
		Short: "Print the last records, and with -f the ones that follow",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := auditPath(f, file)
			if err != nil {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil && !(follow && os.IsNotExist(err)) {
				return fmt.Errorf("cannot read audit log: %w", err)
			}
			end := bytes.LastIndexByte(b, '\n') + 1 // complete lines only
			var last [][]byte
			var recs []*audit.Record
			audit.Scan(bytes.NewReader(b[:end]), func(r *audit.Record, line []byte) error {
				last, recs = append(last, line), append(recs, r)
				if len(last) > n {
					last, recs = last[1:], recs[1:]
				}
				return nil
			})
			print := func(r *audit.Record, line []byte) error {
				if f.Global.JSON() {
					_, err := fmt.Fprintf(f.IO.Out, "%s\n", line)
					return err
				}
				_, err := fmt.Fprintf(f.IO.Out, "%-19s  %-8s  %-12s  %-11s  %-18s  %-4s  %s\n",
					r.Time.Local().Format(time.DateTime), r.Kind, termsafe.Line(dash(r.Agent)), className(r), termsafe.Line(decisionText(r)), exitText(resultOf(r)), termsafe.Line(r.Command()))
				return err
			}
			if !f.Global.JSON() {
				fmt.Fprintf(f.IO.Out, "%-19s  %-8s  %-12s  %-11s  %-18s  %-4s  %s\n", "TIME", "KIND", "AGENT", "CLASS", "DECISION", "EXIT", "COMMAND")
			}
			for i := range last {
				if err := print(recs[i], last[i]); err != nil {
					return err
				}
			}
			if !follow {
				return nil
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return audit.Follow(ctx, path, int64(end), 200*time.Millisecond, print)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&file, "file", "", "the log to read (default: the configured audit log)")
	fs.IntVarP(&n, "lines", "n", 10, "how many records to print first")
	fs.BoolVarP(&follow, "follow", "f", false, "keep printing records as they are appended")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func className(r *audit.Record) string {
	if r.Class == nil {
		return "-"
	}
	return r.Class.String()
}

func decisionText(r *audit.Record) string {
	switch {
	case r.Kind == audit.KindRepair:
		return "repair"
	case r.Approval != "" && r.Approver != "":
		return r.Decision + " (" + r.Approval + " by " + r.Approver + ")"
	case r.Approval != "":
		return r.Decision + " (" + r.Approval + ")"
	}
	return dash(r.Decision)
}

func resultOf(r *audit.Record) *audit.Record {
	if r.Kind == audit.KindResult {
		return r
	}
	return nil
}

func exitText(r *audit.Record) string {
	if r == nil || r.Exit == nil {
		return "-"
	}
	return fmt.Sprint(*r.Exit)
}
