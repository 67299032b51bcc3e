package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/webapprove"
)

// newApproversCmd returns `agentctl approvers`: the passkeys that answer
// on the web approval page.
func newApproversCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "approvers",
		Short: "Enroll the passkeys that answer on the web approval page",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "enroll",
		Short: "Print a one-time code that enrolls a passkey on the web approval page",
		Long: `enroll prints a one-time code, valid for 10 minutes and for one passkey.
Open the web approval page of the broker (agentctl serve --web ADDR) at
/enroll, type the code and register a passkey (a phone, a security key,
the laptop's own): from then on it signs the answers given on the page.

Run it in your own terminal, not the agent's: whoever reads the code can
enroll a passkey. The code's hash and the passkeys are kept in
$XDG_CONFIG_HOME/agentctl (0600), which agentctl run's jail hides.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			paths, err := approve.DefaultPaths(f.Getenv)
			if err != nil {
				return &ConfigError{Err: err}
			}
			st := &webapprove.Store{Dir: filepath.Dir(paths.Key)}
			code, exp, err := st.NewCode()
			if err != nil {
				return &ConfigError{Err: fmt.Errorf("cannot open an enrollment in %q: %w", st.Dir, err)}
			}
			fmt.Fprintf(f.IO.Out, "%s\n", code)
			fmt.Fprintf(f.IO.ErrOut, "agentctl: one-time enrollment code above, valid until %s for one passkey (%d enrolled)\nhint: open the web approval page's /enroll (agentctl serve --web ADDR) and type it there\n",
				exp.Local().Format("15:04:05"), st.Count())
			return nil
		},
	})
	return cmd
}
