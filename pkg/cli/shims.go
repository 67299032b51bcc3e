package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/agentctl/agentctl/pkg/boot"
)

// shimNames are the tools a shim stands in for. agentctl dispatches on the
// name it was called by.
var shimNames = boot.Tools

// isShimName says whether agentctl was called as one of its shims.
func isShimName(argv0 string) (string, bool) {
	base := filepath.Base(argv0)
	for _, n := range shimNames {
		if base == n {
			return n, true
		}
	}
	return "", false
}

func defaultShimDir(f *Factory) string {
	data := f.Getenv("XDG_DATA_HOME")
	if !filepath.IsAbs(data) {
		home, _ := os.UserHomeDir()
		if h := f.Getenv("HOME"); h != "" {
			home = h
		}
		data = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(data, "agentctl", "shims")
}

func newShimsCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "shims",
		Short: "Install shims so that plain kubectl, terraform and tofu go through agentctl",
		Long: `Shims are symbolic links named kubectl, terraform and tofu that point at
agentctl. Put their directory first on the agent's PATH and every plain
"kubectl …" the agent runs goes through agentctl. In shim mode agentctl's
global flags come from the environment (AGENTCTL_OUTPUT, AGENTCTL_INTENT,
AGENTCTL_AGENT, AGENTCTL_POLICY, AGENTCTL_NON_INTERACTIVE).

When agentctl needs the real terraform it searches PATH skipping anything
that resolves to agentctl itself, so a shim never calls itself.`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "install [DIR]",
		Short: "Create the shims in DIR (default ~/.local/share/agentctl/shims)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			dir, self, err := shimTarget(f, args)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("cannot create shim dir %q: %w", dir, err)
			}
			for _, n := range shimNames {
				p := filepath.Join(dir, n)
				if ours, err := pointsAt(p, self); err == nil {
					if ours {
						continue
					}
					return &hintError{msg: fmt.Sprintf("%q exists and is not an agentctl shim", p), hint: "remove it or pick another directory"}
				}
				if err := os.Symlink(self, p); err != nil {
					return fmt.Errorf("cannot create shim %q: %w", p, err)
				}
			}
			fmt.Fprintf(f.IO.ErrOut, "shims for %s installed in %s; put it first on the agent's PATH:\n", strings.Join(shimNames, ", "), dir)
			fmt.Fprintf(f.IO.Out, "export PATH=%q:\"$PATH\"\n", dir)
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "uninstall [DIR]",
		Short: "Remove the shims agentctl created in DIR, and nothing else",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			dir, self, err := shimTarget(f, args)
			if err != nil {
				return err
			}
			for _, n := range shimNames {
				p := filepath.Join(dir, n)
				if ours, err := pointsAt(p, self); err == nil && ours {
					if err := os.Remove(p); err != nil {
						return err
					}
					fmt.Fprintf(f.IO.ErrOut, "removed %s\n", p)
				}
			}
			os.Remove(dir) // only when empty
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "status [DIR]",
		Short: "Show what kubectl, terraform and tofu resolve to on PATH",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			dir, self, err := shimTarget(f, args)
			if err != nil {
				return err
			}
			w := f.IO.Out
			fmt.Fprintf(w, "shim dir: %s\n", dir)
			for _, n := range shimNames {
				state := "no shim"
				if ours, err := pointsAt(filepath.Join(dir, n), self); err == nil {
					state = map[bool]string{true: "shim installed", false: "a file that is not agentctl's"}[ours]
				}
				onPath := "not on PATH"
				if p := lookPath(f, n); p != "" {
					if ours, _ := pointsAt(p, self); ours {
						onPath = p + " → agentctl"
					} else {
						onPath = p + " (the real tool: NOT intercepted)"
					}
				}
				real := "not found"
				if p, err := findTool(f, n); err == nil {
					real = p
				}
				if n == "kubectl" {
					real = "embedded"
				}
				fmt.Fprintf(w, "%-9s  %-16s  PATH: %s;  real: %s\n", n, state, onPath, real)
			}
			return nil
		},
	})
	return cmd
}

// shimTarget returns the shim dir an invocation names and the agentctl
// binary shims point at.
func shimTarget(f *Factory, args []string) (dir, self string, err error) {
	self, err = selfPath(f)
	return shimDirArg(f, args), self, err
}

func shimDirArg(f *Factory, args []string) string {
	if len(args) == 1 {
		if abs, err := filepath.Abs(args[0]); err == nil {
			return abs
		}
		return args[0]
	}
	return defaultShimDir(f)
}

func selfPath(f *Factory) (string, error) {
	self, err := f.Executable()
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(self); err == nil {
		self = real
	}
	return filepath.Abs(self)
}

// pointsAt says whether p resolves to self. It returns an error when p does
// not exist.
func pointsAt(p, self string) (bool, error) {
	if _, err := os.Lstat(p); err != nil {
		return false, err
	}
	real, err := filepath.EvalSymlinks(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil // a dangling link is not ours
	}
	if err != nil {
		return false, err
	}
	return real == self || sameFile(real, self), nil
}

// lookPath finds name on the factory's PATH, like exec.LookPath.
func lookPath(f *Factory, name string) string {
	for _, dir := range filepath.SplitList(f.Getenv("PATH")) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}
