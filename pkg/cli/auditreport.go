package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentctl/agentctl/pkg/audit"
	"github.com/agentctl/agentctl/pkg/termsafe"
)

// parseSince reads --since: a duration (2h, 90m), a number of days (7d)
// or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if d, err := strconv.Atoi(n); err == nil && d >= 0 {
			return now.AddDate(0, 0, -d), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, &UsageError{Err: fmt.Errorf("invalid --since %q: want a duration (2h), days (7d) or an RFC 3339 time", s)}
}

func newAuditReportCmd(f *Factory) *cobra.Command {
	var file, since string
	cmd := &cobra.Command{
		Use:   "report [--since 7d]",
		Short: "Summarise each agent's commands: by class, denials, flags, targets",
		Long: `Report reads the audit log's decision records since --since (default 7d)
and prints one row per agent: its commands by class, how many were denied,
the behavioural flags they raised (docs/audit.md, Flags) and the targets
(clusters, namespaces, terraform workspaces) they were aimed at. With
--output json it prints {"since": TIME, "agents": [...]}.`,
		Example: `  agentctl audit report
  agentctl audit report --since 24h --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, err := parseSince(since, time.Now())
			if err != nil {
				return err
			}
			fh, path, err := readAuditLog(f, file)
			if err != nil {
				return err
			}
			defer fh.Close()
			rep, err := audit.Summarize(fh, from)
			if err != nil {
				return fmt.Errorf("cannot read audit log %q: %w", path, err)
			}
			if f.Global.JSON() {
				b, _ := json.Marshal(struct {
					Since  time.Time           `json:"since"`
					Agents []audit.AgentReport `json:"agents"`
				}{from.UTC(), rep})
				_, err := fmt.Fprintf(f.IO.Out, "%s\n", b)
				return err
			}
			return writeReportTable(f.IO.Out, rep)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&file, "file", "", "the log to read (default: the configured audit log)")
	fs.StringVar(&since, "since", "7d", "only records newer than a duration (2h), days (7d) or an RFC 3339 time")
	return cmd
}

func writeReportTable(w io.Writer, rep []audit.AgentReport) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AGENT\tCOMMANDS\tBY CLASS\tDENIALS\tFLAGS\tTARGETS")
	for _, a := range rep {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\t%s\n", termsafe.Line(a.Agent), a.Commands, counts(a.Classes), a.Denials, counts(a.Flags), termsafe.Line(dash(strings.Join(a.Targets, ", "))))
	}
	return tw.Flush()
}

// counts prints a map of counts as "a 2, b 1", largest first.
func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return dash(strings.Join(parts, ", "))
}
