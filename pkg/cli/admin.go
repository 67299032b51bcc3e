package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/audit"
	"github.com/agentctl/agentctl/pkg/classify"
	tfclass "github.com/agentctl/agentctl/pkg/classify/terraform"
	"github.com/agentctl/agentctl/pkg/pipeline"
	"github.com/agentctl/agentctl/pkg/policy"
	"github.com/agentctl/agentctl/pkg/webapprove"
)

// defaultAdminDir holds what only root writes: policy.yaml (the admin
// policy layer) and config.yaml (settings the agent must not change).
// It is a variable only so that the end-to-end tests' build can point it
// elsewhere at link time (-X); no flag, variable or file the agent
// controls changes it, and release builds never set it.
var defaultAdminDir = "/etc/agentctl"

// adminConfig is /etc/agentctl/config.yaml. agentctl runs as the agent's
// OS user, and the agent sets its own environment and flags: what must
// hold whatever they say is set here, in a file owned by root and
// writable by nobody else.
type adminConfig struct {
	Audit struct {
		// Path is where every audit record goes, whatever
		// AGENTCTL_AUDIT_LOG, XDG_STATE_HOME or HOME say. "{user}" is
		// replaced by the OS user's name.
		Path string `yaml:"path"`
		// Syslog is a sink URL (as AGENTCTL_AUDIT_SYSLOG) that the
		// environment cannot remove.
		Syslog string `yaml:"syslog"`
		// OTLP exports every record to an OpenTelemetry collector
		// (docs/audit.md, OpenTelemetry).
		OTLP *adminOTLP `yaml:"otlp"`
		// Flags sets when the behavioural flags are raised
		// (docs/audit.md, Flags).
		Flags adminFlags `yaml:"flags"`
	} `yaml:"audit"`
	Approval struct {
		// Approver is tty, inbox or none, whatever --approver,
		// AGENTCTL_APPROVER or the user's config.yaml say.
		Approver string `yaml:"approver"`
		// InboxPipe lets `agentctl inbox` answer through a pipe (a chat
		// bridge): whatever writes the pipe approves, and the agent could
		// start one itself, so only root allows it.
		InboxPipe bool `yaml:"inboxPipe"`
		// InboxSocket is the inbox's socket ("{user}" replaced), for
		// agentctl and `agentctl inbox` alike, whatever XDG_RUNTIME_DIR
		// says.
		InboxSocket string `yaml:"inboxSocket"`
		// InboxPublicKey is the one key inbox answers must be signed
		// with, whatever XDG_CONFIG_HOME says: the absolute path of a
		// public key file owned by root ("{user}" replaced), or the key
		// itself in base64.
		InboxPublicKey string `yaml:"inboxPublicKey"`
		// Notify tells a person that a request waits on the web
		// approval page (agentctl serve --web): a shell command run
		// with AGENTCTL_APPROVAL_URL, _ID and _CLASS set, or an
		// http(s) webhook URL that gets them as JSON. No secret is in
		// what it is given.
		Notify string `yaml:"notify"`
	} `yaml:"approval"`
	// Broker is "required" when commands may only run through a broker
	// (agentctl serve): without one a client exits 70 instead of running
	// the command itself. "" or "optional": a client without a broker
	// runs the command one-shot.
	Broker string `yaml:"broker"`
	// State is the directory of the lockout and rate-limit state
	// ("{user}" replaced), whatever XDG_STATE_HOME or HOME say.
	State     string `yaml:"state"`
	Terraform struct {
		// AllowDevOverrides lets terraform's CLI configuration hold
		// dev_overrides: terraform then runs provider binaries from the
		// named directories that no lock file or plan pins.
		AllowDevOverrides bool `yaml:"allowDevOverrides"`
		// AllowCredentialsHelper lets it name a credentials_helper, a
		// program terraform runs for registry and backend credentials.
		AllowCredentialsHelper bool `yaml:"allowCredentialsHelper"`
		// AllowMirrors are absolute directories outside the project in
		// which terraform's CLI configuration may put filesystem mirrors
		// and the plugin cache, and in which implied local mirrors
		// (~/.terraform.d/plugins, ...) may hold providers: agentctl
		// refuses them elsewhere, since terraform init installs and runs
		// what they hold.
		AllowMirrors []string `yaml:"allowMirrors"`
	} `yaml:"terraform"`
	// Approvals lets a proposal bundle signed by enough of the keys in
	// AllowedSigners (a root-owned allowed_signers file) approve the
	// apply of its plan without a human at this machine (docs/ci.md).
	Approvals struct {
		AllowedSigners string `yaml:"allowedSigners"`
		Required       int    `yaml:"required"`
	} `yaml:"approvals"`
	// Grants says which classes beyond write and destructive a
	// time-boxed grant (agentctl grant) may cover: privilege and exec
	// are "allow" or "deny" (the default). Secret and unknown never.
	Grants struct {
		Privilege string `yaml:"privilege"`
		Exec      string `yaml:"exec"`
	} `yaml:"grants"`
	// BreakGlass turns agentctl break-glass on (it is off by default):
	// while a break-glass that two distinct signers of AllowedSigners
	// (default: approvals.allowedSigners) signed is active, every
	// request that would ask a human runs, flagged in the audit log.
	// MaxFor bounds its --for (default 1h).
	BreakGlass struct {
		Allow          bool   `yaml:"allow"`
		AllowedSigners string `yaml:"allowedSigners"`
		MaxFor         string `yaml:"maxFor"`
	} `yaml:"breakGlass"`
}

// allowsGrant says whether a grant may cover class c (privilege, exec).
func (c *adminConfig) allowsGrant(class classify.Class) bool {
	switch class {
	case classify.Privilege:
		return c.Grants.Privilege == "allow"
	case classify.Exec:
		return c.Grants.Exec == "allow"
	}
	return false
}

// breakGlassSignersFile is the allowed_signers file of break-glass, ""
// when break-glass is off.
func (c *adminConfig) breakGlassSignersFile() string {
	if !c.BreakGlass.Allow {
		return ""
	}
	if s := c.BreakGlass.AllowedSigners; s != "" {
		return s
	}
	return c.Approvals.AllowedSigners
}

// defaultBreakGlassMax is how long a break-glass may last when the admin
// config says nothing.
const defaultBreakGlassMax = time.Hour

// breakGlassMax is breakGlass.maxFor, else defaultBreakGlassMax.
func (c *adminConfig) breakGlassMax() time.Duration {
	if d, err := time.ParseDuration(c.BreakGlass.MaxFor); err == nil && d > 0 {
		return d
	}
	return defaultBreakGlassMax
}

// terraformAllow is what the admin config allows in terraform's CLI
// configuration.
func (c *adminConfig) terraformAllow() tfclass.CLIConfigAllow {
	return tfclass.CLIConfigAllow{DevOverrides: c.Terraform.AllowDevOverrides, CredentialsHelper: c.Terraform.AllowCredentialsHelper,
		Mirrors: c.Terraform.AllowMirrors}
}

// adminDir returns the factory's admin directory.
func (f *Factory) adminDir() string {
	if f.AdminDir != "" {
		return f.AdminDir
	}
	return defaultAdminDir
}

// loadAdmin reads the admin config once per process. A missing file is
// no setting; one that someone other than root could write, or that does
// not parse, is a configuration error: nothing runs.
func loadAdmin(f *Factory) (*adminConfig, error) {
	f.admin.once.Do(func() {
		f.admin.cfg, f.admin.err = readAdmin(filepath.Join(f.adminDir(), "config.yaml"))
	})
	return f.admin.cfg, f.admin.err
}

func readAdmin(path string) (*adminConfig, error) {
	cfg := &adminConfig{}
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return cfg, nil
	}
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("%s: %w", path, err)}
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("%s: %w", path, err)}
	}
	if !policy.Trusted(fi) {
		return nil, &ConfigError{Err: &hintError{
			msg:  fmt.Sprintf("%s: the admin configuration must be owned by root and writable by nobody else", path),
			hint: fmt.Sprintf("sudo chown root: %s && sudo chmod go-w %s", path, path),
		}}
	}
	b, err := io.ReadAll(fh)
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("%s: %w", path, err)}
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, &ConfigError{Err: errors.New(yamlProblem(path, err))}
	}
	for _, p := range []struct{ key, v string }{{"audit.path", cfg.Audit.Path}, {"state", cfg.State}, {"approval.inboxSocket", cfg.Approval.InboxSocket}, {"approvals.allowedSigners", cfg.Approvals.AllowedSigners}, {"breakGlass.allowedSigners", cfg.BreakGlass.AllowedSigners}} {
		if p.v != "" && !filepath.IsAbs(p.v) {
			return nil, &ConfigError{Err: fmt.Errorf("%s: %s %q is not an absolute path", path, p.key, p.v)}
		}
	}
	for _, m := range cfg.Terraform.AllowMirrors {
		if !filepath.IsAbs(m) {
			return nil, &ConfigError{Err: fmt.Errorf("%s: terraform.allowMirrors %q is not an absolute path", path, m)}
		}
	}
	for _, g := range []struct{ key, v string }{{"grants.privilege", cfg.Grants.Privilege}, {"grants.exec", cfg.Grants.Exec}} {
		switch g.v {
		case "", "allow", "deny":
		default:
			return nil, &ConfigError{Err: fmt.Errorf("%s: %s %q is not allow or deny", path, g.key, g.v)}
		}
	}
	if m := cfg.BreakGlass.MaxFor; m != "" {
		if d, err := time.ParseDuration(m); err != nil || d <= 0 {
			return nil, &ConfigError{Err: fmt.Errorf("%s: breakGlass.maxFor %q is not a positive duration such as 1h", path, m)}
		}
	}
	if cfg.BreakGlass.Allow && cfg.breakGlassSignersFile() == "" {
		return nil, &ConfigError{Err: &hintError{msg: fmt.Sprintf("%s: breakGlass.allow needs an allowed_signers file", path),
			hint: "set breakGlass.allowedSigners (or approvals.allowedSigners) to a root-owned allowed_signers file"}}
	}
	if cfg.Approvals.Required < 0 {
		return nil, &ConfigError{Err: fmt.Errorf("%s: approvals.required %d is negative", path, cfg.Approvals.Required)}
	}
	switch cfg.Approval.Approver {
	case "", "tty", "inbox", "none":
	default:
		return nil, &ConfigError{Err: fmt.Errorf("%s: approval.approver %q is not tty, inbox or none", path, cfg.Approval.Approver)}
	}
	switch cfg.Broker {
	case "", "optional", "required":
	default:
		return nil, &ConfigError{Err: fmt.Errorf("%s: broker %q is not optional or required", path, cfg.Broker)}
	}
	if k := cfg.Approval.InboxPublicKey; k != "" && !filepath.IsAbs(k) {
		if _, err := approve.ParsePublicKey([]byte(k)); err != nil {
			return nil, &ConfigError{Err: fmt.Errorf("%s: approval.inboxPublicKey is neither an absolute path nor a base64 ed25519 public key: %w", path, err)}
		}
	}
	if err := webapprove.CheckNotify(cfg.Approval.Notify); err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("%s: approval.notify: %w", path, err)}
	}
	if err := cfg.Audit.Flags.validate(); err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("%s: audit.flags: %w", path, err)}
	}
	if err := cfg.Audit.OTLP.validate(); err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("%s: audit.otlp: %w", path, err)}
	}
	if u := cfg.Audit.Syslog; u != "" {
		if _, err := audit.ParseSyslogURL(u); err != nil {
			return nil, &ConfigError{Err: fmt.Errorf("%s: audit.syslog: %w", path, err)}
		}
	}
	return cfg, nil
}

// defaultAuditPath is where this process writes its audit records: the
// admin config's audit.path when set, else AGENTCTL_AUDIT_LOG,
// $XDG_STATE_HOME or $HOME (audit.DefaultPath).
func defaultAuditPath(f *Factory) (string, error) {
	admin, err := loadAdmin(f)
	if err != nil {
		return "", err
	}
	if p := admin.Audit.Path; p != "" {
		return forUser(p), nil
	}
	if p := audit.DefaultPath(f.Getenv); p != "" {
		return p, nil
	}
	return "", &ConfigError{Err: &hintError{msg: "cannot place the audit log: neither XDG_STATE_HOME nor HOME is set", hint: "set AGENTCTL_AUDIT_LOG to a file path"}}
}

var unknownField = regexp.MustCompile(`^line (\d+): field (\S+) not found`)

// yamlProblem is one line about a YAML decoding error: FILE:LINE: what.
func yamlProblem(path string, err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		if m := unknownField.FindStringSubmatch(te.Errors[0]); m != nil {
			return fmt.Sprintf("%s:%s: unknown field %q", path, m[1], m[2])
		}
		return path + ": " + te.Errors[0]
	}
	return path + ": " + strings.TrimPrefix(err.Error(), "yaml: ")
}

// forUser replaces "{user}" in an admin path with the OS user's name.
func forUser(p string) string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return strings.ReplaceAll(p, "{user}", name)
}

// stateDir is where the lockout and rate-limit state lives: the admin
// config's state when set, else $XDG_STATE_HOME/agentctl or
// ~/.local/state/agentctl. An admin config that cannot be read leaves
// the default here; the pipeline refuses to run with it anyway.
func stateDir(f *Factory) string {
	if admin, err := loadAdmin(f); err == nil && admin.State != "" {
		return forUser(admin.State)
	}
	return xdgDir(f, "XDG_STATE_HOME", filepath.Join(".local", "state"))
}

// openAuditLog opens this process's audit log for writing, with its
// syslog copies (the admin config's and AGENTCTL_AUDIT_SYSLOG), and
// returns it with its path.
func openAuditLog(f *Factory) (*audit.Log, string, error) {
	path, err := defaultAuditPath(f)
	if err != nil {
		return nil, "", err
	}
	admin, err := loadAdmin(f)
	if err != nil {
		return nil, "", err
	}
	opts := audit.Options{Warn: func(msg string) {
		fmt.Fprintf(f.IO.ErrOut, "agentctl: warning: %s\n", msg)
	}}
	for _, s := range []struct{ from, url string }{
		{filepath.Join(f.adminDir(), "config.yaml") + ": audit.syslog", admin.Audit.Syslog},
		{audit.EnvSyslog, f.Getenv(audit.EnvSyslog)},
	} {
		if s.url == "" {
			continue
		}
		cfg, err := audit.ParseSyslogURL(s.url)
		if err != nil {
			return nil, "", &ConfigError{Err: fmt.Errorf("%s: %w", s.from, err)}
		}
		sink, err := audit.NewSyslog(cfg)
		if err != nil {
			return nil, "", &ConfigError{Err: fmt.Errorf("%s: %w", s.from, err)}
		}
		opts.Sinks = append(opts.Sinks, sink)
	}
	log, err := audit.Open(path, opts)
	if err != nil {
		return nil, "", &pipeline.AuditError{Err: err}
	}
	return log, path, nil
}

// inboxPin is what the admin config fixes of the inbox: its socket and the
// public key its answers must verify with (approve.SelectOptions.Pin).
// A pinned key file must be root's, as the config is: whoever can write
// it can approve.
func inboxPin(f *Factory) (approve.Paths, error) {
	admin, err := loadAdmin(f)
	if err != nil {
		return approve.Paths{}, err
	}
	var pin approve.Paths
	if s := admin.Approval.InboxSocket; s != "" {
		pin.Socket = forUser(s)
	}
	k := admin.Approval.InboxPublicKey
	if k == "" {
		return pin, nil
	}
	src := filepath.Join(f.adminDir(), "config.yaml") + ": approval.inboxPublicKey"
	b := []byte(k)
	if filepath.IsAbs(k) {
		kp := forUser(k)
		src += " " + strconv.Quote(kp)
		if b, err = readRootFile(kp); err != nil {
			return approve.Paths{}, &ConfigError{Err: fmt.Errorf("%s: %w", src, err)}
		}
	}
	if pin.Trusted, err = approve.ParsePublicKey(b); err != nil {
		return approve.Paths{}, &ConfigError{Err: fmt.Errorf("%s: %w", src, err)}
	}
	return pin, nil
}

// readRootFile reads a file that must be owned by root and writable by
// nobody else.
func readRootFile(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || !policy.Trusted(fi) {
		return nil, errors.New("must be a file owned by root and writable by nobody else")
	}
	return io.ReadAll(io.LimitReader(fh, 1<<16))
}
