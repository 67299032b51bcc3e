package cli

import (
	"os/user"

	"github.com/spf13/cobra"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/tui"
)

// newInboxCmd returns `agentctl inbox`, the approval inbox for a second
// terminal.
func newInboxCmd(f *Factory) *cobra.Command {
	var plain bool
	cmd := &cobra.Command{
		Use:   "inbox",
		Short: "Answer approval requests of every agentctl process of this user",
		Long: `Run the approval inbox: a screen, for a terminal of its own, that lists
the requests of every agentctl process of this user waiting for a human,
shows each one as the terminal prompt would, and answers it.

The inbox listens on $XDG_RUNTIME_DIR/agentctl/inbox.sock (a 0700
directory). Each answer is signed with the inbox key, created on first run
in $XDG_CONFIG_HOME/agentctl/inbox.key (0600); agentctl verifies the
signature, the request it names and its expiry before it runs anything.
While an inbox runs, agentctl asks it instead of the terminal.

With --plain, or when stdin or stdout is not a terminal, the inbox prints
each request as text and reads one answer per line: "y" approves (the
target's name, for a change that needs confirmation), "n: REASON" denies
with a reason, anything else denies. Whoever writes its stdin approves.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			plain := plain || !f.IO.IsStdinTTY() || !f.IO.IsStdoutTTY()
			paths, err := approve.DefaultPaths(f.Getenv)
			if err != nil {
				return &ConfigError{Err: err}
			}
			key, err := approve.LoadOrCreateKey(paths)
			if err != nil {
				return &ConfigError{Err: err}
			}
			name := ""
			if u, err := user.Current(); err == nil {
				name = u.Username
			}
			srv, err := approve.Listen(paths, key, approve.ServerOptions{Approver: name})
			if err != nil {
				return err
			}
			defer srv.Close()
			if plain {
				return tui.RunInboxPlain(cmd.Context(), srv, f.IO.In, f.IO.Out)
			}
			return tui.RunInbox(cmd.Context(), srv, f.IO.In, f.IO.Out, tuiOptions(f))
		},
	}
	cmd.Flags().BoolVar(&plain, "plain", false, "answer line by line instead of on a screen")
	return cmd
}
