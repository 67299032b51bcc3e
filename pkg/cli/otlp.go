package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentctl/agentctl/pkg/audit"
)

// adminOTLP is audit.otlp in the admin config: the collector every audit
// record is exported to.
type adminOTLP struct {
	// Endpoint is host:port of the collector's OTLP receiver.
	Endpoint string `yaml:"endpoint"`
	// Protocol is grpc (default) or http.
	Protocol string `yaml:"protocol"`
	// HeadersFile is a root-owned file of "Name: value" lines sent with
	// every export (the SIEM's API key).
	HeadersFile string `yaml:"headersFile"`
	// CA is a root-owned PEM file the collector's certificate must
	// chain to (default: the system roots).
	CA string `yaml:"ca"`
	// Insecure sends in plain text: only to a loopback address.
	Insecure bool `yaml:"insecure"`
}

// exportTimeout bounds the export an ordinary command makes as it ends:
// a collector that is down or slow delays a command by at most this.
const exportTimeout = 200 * time.Millisecond

// validate checks what can be checked without reading files: the same
// rules audit.NewExporter applies, so that a bad setting is exit 78
// before anything runs.
func (o *adminOTLP) validate() error {
	if o == nil {
		return nil
	}
	switch o.Protocol {
	case "", "grpc", "http":
	default:
		return fmt.Errorf("protocol %q is not grpc or http", o.Protocol)
	}
	host, _, err := net.SplitHostPort(o.Endpoint)
	if err != nil || host == "" {
		return fmt.Errorf("endpoint %q is not host:port", o.Endpoint)
	}
	for _, p := range []struct{ key, v string }{{"headersFile", o.HeadersFile}, {"ca", o.CA}} {
		if p.v != "" && !filepath.IsAbs(p.v) {
			return fmt.Errorf("%s %q is not an absolute path", p.key, p.v)
		}
	}
	if o.Insecure && o.CA != "" {
		return errors.New("insecure and ca exclude each other")
	}
	return nil
}

// auditExporter is the OTLP exporter of the audit log at logPath, nil
// when the admin config names none. Its cursor lives in the state dir.
func auditExporter(f *Factory, logPath string) (*audit.Exporter, error) {
	admin, err := loadAdmin(f)
	if err != nil || admin.Audit.OTLP == nil {
		return nil, err
	}
	o := admin.Audit.OTLP
	src := filepath.Join(f.adminDir(), "config.yaml") + ": audit.otlp"
	cfg := audit.OTLPConfig{Endpoint: o.Endpoint, Protocol: o.Protocol, Insecure: o.Insecure}
	if o.HeadersFile != "" {
		b, err := readRootFile(o.HeadersFile)
		if err != nil {
			return nil, &ConfigError{Err: fmt.Errorf("%s: headersFile %q: %w", src, o.HeadersFile, err)}
		}
		if cfg.Headers, err = parseHeaders(b); err != nil {
			return nil, &ConfigError{Err: fmt.Errorf("%s: headersFile %q: %w", src, o.HeadersFile, err)}
		}
	}
	if o.CA != "" {
		if cfg.CA, err = readRootFile(o.CA); err != nil {
			return nil, &ConfigError{Err: fmt.Errorf("%s: ca %q: %w", src, o.CA, err)}
		}
	}
	sum := sha256.Sum256([]byte(logPath))
	cfg.Cursor = filepath.Join(stateDir(f), "otlp", hex.EncodeToString(sum[:8])+".cursor")
	exp, err := audit.NewExporter(logPath, cfg)
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("%s: %w", src, err)}
	}
	return exp, nil
}

// parseHeaders reads "Name: value" lines; blank lines and # comments are
// skipped. Values are never printed.
func parseHeaders(b []byte) (map[string]string, error) {
	h := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("line %d is not \"Name: value\"", n)
		}
		h[name] = strings.TrimSpace(value)
	}
	return h, nil
}

// flushExport sends what the collector does not have yet, bounded by
// exportTimeout, and closes the exporter. What it cannot send waits in
// the log for the next command, `agentctl serve` or `agentctl audit
// export`: it is not an error of the command that just ran.
//
// A command whose flush failed leaves a mark beside the cursor, and the
// commands of the next exportBackoff leave the sending to `agentctl
// serve` and `agentctl audit export`: a collector that accepts and never
// answers then costs one command the bound, not every command.
func flushExport(exp *audit.Exporter) {
	if exp == nil {
		return
	}
	defer exp.Close()
	mark := exp.Cursor() + ".failed"
	if fi, err := os.Stat(mark); err == nil && time.Since(fi.ModTime()) < exportBackoff {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), exportTimeout)
	defer cancel()
	if _, _, err := exp.Flush(ctx); err != nil {
		os.WriteFile(mark, nil, 0o600)
		os.Chtimes(mark, time.Time{}, time.Now())
		return
	}
	os.Remove(mark)
}

// exportBackoff is how long commands leave the export alone after one
// failed (flushExport).
const exportBackoff = 30 * time.Second

func newAuditExportCmd(f *Factory) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "export [--timeout 30s]",
		Short: "Send the audit records the OpenTelemetry collector does not have yet",
		Long: `Export sends every record after the export cursor to the collector that
audit.otlp in the admin config names, in order, and prints how many it sent.
It exits 0 once the collector has them all, 1 when it could not reach it
(the records wait in the log). Every command, and agentctl serve every
second, also export; this is for a backlog after a long outage.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := defaultAuditPath(f)
			if err != nil {
				return err
			}
			exp, err := auditExporter(f, path)
			if err != nil {
				return err
			}
			if exp == nil {
				return &ConfigError{Err: &hintError{msg: "no OpenTelemetry export is configured",
					hint: "set audit.otlp in " + filepath.Join(f.adminDir(), "config.yaml") + " (docs/audit.md)"}}
			}
			defer exp.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			total := 0
			for {
				sent, pending, err := exp.Flush(ctx)
				total += sent
				if err != nil {
					fmt.Fprintf(f.IO.ErrOut, "agentctl: audit export: sent %d record(s), %d still pending: %s\n", total, pending, strings.Join(strings.Fields(err.Error()), " "))
					return &ExitError{Code: 1}
				}
				if pending == 0 {
					fmt.Fprintf(f.IO.Out, "sent %d record(s) to %s, none pending\n", total, exp)
					return nil
				}
			}
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "give up after this long")
	return cmd
}

// exportLoop exports every second while the broker runs, so records wait
// at most that long when no command comes after them; it says on stderr
// (the broker's log) when the collector stops and starts taking them.
// The func it returns stops it after a last export.
func exportLoop(ctx context.Context, f *Factory, exp *audit.Exporter) func() {
	if exp == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		failing := false
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			fctx, fcancel := context.WithTimeout(ctx, 5*time.Second)
			_, pending, err := exp.Flush(fctx)
			fcancel()
			switch {
			case err != nil && !failing && ctx.Err() == nil:
				fmt.Fprintf(f.IO.ErrOut, "agentctl: warning: audit export: %v (%d record(s) wait in the log)\n", err, pending)
			case err == nil && failing:
				fmt.Fprintf(f.IO.ErrOut, "agentctl: audit export: %s takes records again\n", exp)
			}
			failing = err != nil
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() {
		cancel()
		<-done
		flushExport(exp)
	}
}
