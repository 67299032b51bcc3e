package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentctl/agentctl/pkg/childproc"
	"github.com/agentctl/agentctl/sandbox"
)

// Set by the linker: -X github.com/agentctl/agentctl/pkg/cli.version=…
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

type versionInfo struct {
	Version     string `json:"version"`
	Commit      string `json:"commit"`
	Date        string `json:"date"`
	Go          string `json:"go"`
	Platform    string `json:"platform"`
	Kubectl     string `json:"kubectl"`
	Terraform   string `json:"terraform,omitempty"`
	TerraformAt string `json:"terraformPath,omitempty"`
	LandlockABI int    `json:"landlockABI"`
	UserNS      bool   `json:"userNamespaces"`
}

func newVersionCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print agentctl's version, the embedded kubectl, the terraform found and what the sandbox can enforce",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := versionInfo{
				Version: version, Commit: commit, Date: date,
				Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
				Kubectl: moduleVersion("k8s.io/kubectl"),
			}
			// Two children, side by side: terraform's own start is most
			// of this command's time, the sandbox probe's the rest.
			probed := make(chan sandbox.Status, 1)
			go func() { probed <- sandbox.Probe() }()
			if tf, err := findTool(f, "terraform"); err == nil {
				info.TerraformAt = tf
				info.Terraform = terraformVersion(cmd.Context(), tf)
			}
			st := <-probed
			info.LandlockABI, info.UserNS = st.LandlockABI, st.UserNS
			if f.Global.JSON() {
				enc := json.NewEncoder(f.IO.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(info)
			}
			w := f.IO.Out
			fmt.Fprintf(w, "agentctl %s (commit %s, built %s, %s %s)\n", info.Version, info.Commit, info.Date, info.Go, info.Platform)
			fmt.Fprintf(w, "kubectl   %s (embedded)\n", info.Kubectl)
			if info.TerraformAt != "" {
				fmt.Fprintf(w, "terraform %s (%s)\n", orDash(info.Terraform), info.TerraformAt)
			} else {
				fmt.Fprintln(w, "terraform not found on PATH")
			}
			fmt.Fprintf(w, "landlock  ABI %d\n", info.LandlockABI)
			fmt.Fprintf(w, "userns    %s\n", map[bool]string{true: "usable", false: "not usable"}[info.UserNS])
			return nil
		},
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// moduleVersion is the version of a module linked into this binary.
func moduleVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, m := range bi.Deps {
		if m.Path == path {
			if m.Replace != nil {
				return m.Replace.Version
			}
			return m.Version
		}
	}
	return "unknown"
}

// terraformVersion asks terraform for its version (bounded to 5 s).
func terraformVersion(ctx context.Context, bin string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := childproc.Output(exec.CommandContext(ctx, bin, "version", "-json"))
	if err != nil {
		return ""
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if json.Unmarshal(out, &v) != nil {
		return ""
	}
	return strings.TrimPrefix(v.Version, "v")
}
