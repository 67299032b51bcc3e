package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// unitName is the systemd user unit `serve --install-unit` writes.
const unitName = "agentctl-broker.service"

// brokerUnit is the systemd user unit that runs the broker from exe.
// docs/agentctl-broker.service is this unit for /usr/bin/agentctl
// (TestBrokerUnitIsTheDocumentedOne).
func brokerUnit(exe string) string {
	return `# systemd user unit for agentctl's per-user broker (docs/protocol.md).
# agentctl serve --install-unit writes it to ~/.config/systemd/user/; then
# systemctl --user daemon-reload && systemctl --user enable --now agentctl-broker
[Unit]
Description=agentctl broker: runs this user's agentctl commands
Documentation=https://github.com/agentctl/agentctl/blob/main/docs/protocol.md

[Service]
Type=simple
# The broker's world is this environment: set KUBECONFIG, AGENTCTL_* here
# (or in ~/.config/environment.d), not in the agent's shell.
ExecStart=` + systemdQuote(exe) + ` serve --foreground
Restart=on-failure
KillMode=mixed

[Install]
WantedBy=default.target
`
}

// systemdQuote quotes a path for ExecStart when it needs it.
func systemdQuote(s string) string {
	if !strings.ContainsAny(s, " \t\"'\\%$;") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `%`, `%%`, `$`, `$$`)
	return `"` + r.Replace(s) + `"`
}

// unitPath is where the user's systemd looks for user units:
// $XDG_CONFIG_HOME/systemd/user, else ~/.config/systemd/user.
func unitPath(f *Factory) (string, error) {
	dir := f.Getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(dir) {
		home := f.Getenv("HOME")
		if !filepath.IsAbs(home) {
			return "", &ConfigError{Err: &hintError{msg: "cannot place the systemd user unit: neither XDG_CONFIG_HOME nor HOME is an absolute path",
				hint: "agentctl serve --install-unit --print > FILE"}}
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "systemd", "user", unitName), nil
}

// installUnit writes (or, with print, prints) the broker's systemd user
// unit for this binary. An existing unit with other content is kept: it
// may be the user's own edit.
func installUnit(f *Factory, print bool) error {
	exe, err := f.Executable()
	if err != nil {
		return fmt.Errorf("cannot find agentctl's own binary: %w", err)
	}
	if exe, err = filepath.Abs(exe); err != nil {
		return err
	}
	unit := brokerUnit(exe)
	if print {
		_, err := fmt.Fprint(f.IO.Out, unit)
		return err
	}
	path, err := unitPath(f)
	if err != nil {
		return err
	}
	old, err := os.ReadFile(path)
	switch {
	case err == nil && bytes.Equal(old, []byte(unit)):
		fmt.Fprintf(f.IO.ErrOut, "agentctl: %s is installed already\n", path)
		return nil
	case err == nil:
		return &hintError{msg: fmt.Sprintf("%q exists with other content", path),
			hint: fmt.Sprintf("keep it, or remove it and run agentctl serve --install-unit again (agentctl serve --install-unit --print shows the unit)")}
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("cannot read %q: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("cannot create %q: %w", filepath.Dir(path), err)
	}
	fl, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("cannot write %q: %w", path, err)
	}
	if _, err := fl.WriteString(unit); err != nil {
		fl.Close()
		os.Remove(path)
		return fmt.Errorf("cannot write %q: %w", path, err)
	}
	if err := fl.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("cannot write %q: %w", path, err)
	}
	fmt.Fprintf(f.IO.ErrOut, "agentctl: wrote %s\nhint: systemctl --user daemon-reload && systemctl --user enable --now agentctl-broker\n", path)
	return nil
}
