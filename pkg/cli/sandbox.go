package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/agentctl/agentctl/sandbox"
)

func newSandboxCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Show what the read sandbox can enforce on this machine",
		Long: `Reads (kubectl get, terraform plan, ...) run in a child with new user and
network namespaces and a Landlock ruleset: only their inputs are readable,
only their scratch dir writable, and only the API server and the policy's
endpoints reachable. See docs/sandbox.md.`,
	}
	cmd.AddCommand(newSandboxStatusCmd(f, sandbox.Probe))
	return cmd
}

// newSandboxStatusCmd prints what probe finds; tests pass a fake probe.
func newSandboxStatusCmd(f *Factory, probe func() sandbox.Status) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Probe the kernel: Landlock ABI, user and network namespaces, what is enforced",
		Long: `Status probes the kernel (the Landlock ABI version; whether a user and a
network namespace can be created, which AppArmor on Ubuntu 24.04 or a
container's seccomp profile may forbid) and prints what the sandbox can
enforce here. It says whether a policy's ` + "`sandbox: required`" + ` (the default)
can be met; when it cannot, sandboxed commands do not run.

It exits 0 either way; --output json prints one object.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st := probe()
			if f.Global.JSON() {
				enc := json.NewEncoder(f.IO.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(st.Summary())
			}
			_, err := fmt.Fprint(f.IO.Out, st.Report())
			return err
		},
	}
}
