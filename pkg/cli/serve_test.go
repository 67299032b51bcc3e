package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/broker/client"
	"github.com/agentctl/agentctl/pkg/exitcode"
)

func TestServeSocket(t *testing.T) {
	f := &Factory{Environ: []string{"AGENTCTL_SOCKET=/agent/picks.sock"}}
	var cfg *ConfigError
	if _, err := serveSocket(f, &serveOptions{}); !errors.As(err, &cfg) || !strings.Contains(err.Error(), "XDG_RUNTIME_DIR is not set") {
		t.Errorf("no XDG_RUNTIME_DIR: %v, want a configuration error (AGENTCTL_SOCKET is the clients')", err)
	}
	f.Environ = append(f.Environ, "XDG_RUNTIME_DIR=/run/user/7")
	if got, err := serveSocket(f, &serveOptions{}); err != nil || got != "/run/user/7/agentctl/broker.sock" {
		t.Errorf("serveSocket = %q, %v", got, err)
	}
	var usage *UsageError
	if _, err := serveSocket(f, &serveOptions{Socket: "rel.sock"}); !errors.As(err, &usage) {
		t.Errorf("relative --socket: %v, want a usage error", err)
	}
}

func TestBrokerGate(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the admin config must be root's")
	}
	admin := t.TempDir()
	if err := os.WriteFile(filepath.Join(admin, "config.yaml"), []byte("broker: required\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	newF := func() *Factory {
		return &Factory{AdminDir: admin, Environ: []string{"AGENTCTL_SOCKET=/run/x/broker.sock"}}
	}
	var stderr bytes.Buffer
	code, stop := brokerGate(newF(), []string{"agentctl", "kubectl", "get", "pods"}, &stderr)
	if !stop || code != exitcode.Internal || !strings.Contains(stderr.String(), "no broker at /run/x/broker.sock") || !strings.Contains(stderr.String(), "hint: ") {
		t.Errorf("required, no broker: exit %d, stop %v, stderr %q", code, stop, stderr.String())
	}
	if _, stop := brokerGate(newF(), []string{"agentctl", "audit", "verify"}, &stderr); stop {
		t.Error("an administrative command was refused for want of a broker")
	}
	t.Setenv(client.WorkerEnv, "1")
	if _, stop := brokerGate(newF(), []string{"agentctl", "kubectl", "get", "pods"}, &stderr); stop {
		t.Error("the broker's own worker was refused for want of a broker")
	}
	stderr.Reset()
	code, stop = brokerGate(newF(), []string{"agentctl", "inbox", "approve", "req-1"}, &stderr)
	if !stop || code != exitcode.Denied || !strings.Contains(stderr.String(), `not "agentctl inbox"`) {
		t.Errorf("a worker asked to approve: exit %d, stop %v, stderr %q", code, stop, stderr.String())
	}
}

func TestAdminBrokerSetting(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the admin config must be root's")
	}
	p := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(p, []byte("broker: maybe\n"), 0o644)
	var cfg *ConfigError
	if _, err := readAdmin(p); !errors.As(err, &cfg) || !strings.Contains(err.Error(), `broker "maybe"`) {
		t.Errorf("broker: maybe: %v", err)
	}
}
