package credentials

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
)

const exampleConfig = `
vault:
  address: https://vault.internal:8200
  auth:
    approle: {roleID: agentctl, secretIDFile: secret-id}
env:
  allow: [AWS_REGION, "TF_VAR_*"]
flags:
  contexts: [kind-dev]
targets:
- name: prod
  match: {context: "prod-*"}
  read:
    kubeconfig: {path: prod-read.kubeconfig, context: prod-read}
  deploy:
    kubernetes-token:
      serviceAccount: agentctl/agentctl-deploy
      ttl: 15m
      broker: {path: /etc/agentctl/broker.kubeconfig}
- name: staging
  match: {context: staging}
  deploy:
    vault-kubernetes: {role: deploy, namespace: apps, cluster: {path: staging.kubeconfig}}
- name: infra
  match: {dir: /src/infra/**, workspace: prod}
  deploy:
    env:
      AWS_ACCESS_KEY_ID: {vault: {path: aws/creds/deploy, field: access_key}}
      AWS_SECRET_ACCESS_KEY: {vault: {path: aws/creds/deploy, field: secret_key}}
      TF_TOKEN_example: {command: [pass, show, tf-token]}
`

func TestParseExample(t *testing.T) {
	cfg, err := Parse("/home/u/.config/agentctl/config.yaml", []byte(exampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Targets[0].Read.Kubeconfig.Path; got != "/home/u/.config/agentctl/prod-read.kubeconfig" {
		t.Errorf("relative path not anchored at the config: %q", got)
	}
	if got := cfg.Targets[1].Deploy.VaultKubernetes.Mount; got != "kubernetes" {
		t.Errorf("default mount: %q", got)
	}
	if got := cfg.Targets[0].Deploy.KubernetesToken.TTL.String(); got != "15m0s" {
		t.Errorf("ttl: %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown field names file and line", "targets:\n- name: a\n  match: {}\n  raed: {}\n", "c.yaml:4: field raed not found"},
		{"two sources in one identity", "targets:\n- name: a\n  read:\n    kubeconfig: {path: x}\n    env: {A: {command: [x]}}\n", "c.yaml:3: target \"a\" read identity: set exactly one of"},
		{"ttl below the apiserver minimum", "targets:\n- name: a\n  deploy:\n    kubernetes-token: {serviceAccount: ns/sa, ttl: 1m, broker: {path: b}}\n", "minimum is 10m0s"},
		{"serviceaccount without namespace", "targets:\n- name: a\n  deploy:\n    kubernetes-token: {serviceAccount: sa, broker: {path: b}}\n", `serviceAccount "sa": want namespace/name`},
		{"vault identity without vault section", "targets:\n- name: a\n  deploy:\n    vault-kubernetes: {role: r, namespace: n, server: https://k}\n", "no vault section"},
		{"duplicate target names", "targets:\n- {name: a, read: {kubeconfig: {path: x}}}\n- {name: a, read: {kubeconfig: {path: x}}}\n", `c.yaml:3: targets[1]: duplicate name "a"`},
		{"bad duration", "targets:\n- name: a\n  deploy:\n    kubernetes-token: {serviceAccount: ns/sa, ttl: soon, broker: {path: b}}\n", "c.yaml:4:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "config.yaml"))
	if !errors.Is(err, ErrNoConfig) {
		t.Fatalf("error %v, want ErrNoConfig", err)
	}
}

func TestLookup(t *testing.T) {
	cfg, err := Parse("/c/config.yaml", []byte(exampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	b := NewBroker(cfg)
	tests := []struct {
		name   string
		target classify.Target
		role   Role
		want   string // target name, "" for no identity
	}{
		{"context glob, read", classify.Target{Context: "prod-eu"}, Read, "prod"},
		{"context glob, deploy", classify.Target{Context: "prod-eu"}, Deploy, "prod"},
		{"target without read identity", classify.Target{Context: "staging"}, Read, ""},
		{"unconfigured context", classify.Target{Context: "dev"}, Read, ""},
		{"terraform subdirectory and workspace", classify.Target{Dir: "/src/infra/net", Workspace: "prod"}, Deploy, "infra"},
		{"terraform other workspace", classify.Target{Dir: "/src/infra", Workspace: "dev"}, Deploy, ""},
		{"terraform sibling directory", classify.Target{Dir: "/src/infra2", Workspace: "prod"}, Deploy, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, _, err := b.Lookup(tt.target, tt.role)
			if tt.want == "" {
				var ne *NoIdentityError
				if !errors.As(err, &ne) {
					t.Fatalf("got %v, want NoIdentityError", err)
				}
				return
			}
			if err != nil || ct.Name != tt.want {
				t.Fatalf("got %v %v, want %s", ct, err, tt.want)
			}
		})
	}
}

func TestChildEnv(t *testing.T) {
	agent := []string{"PATH=/bin", "HOME=/h", "LC_ALL=C", "KUBECONFIG=/h/.kube/admin", "VAULT_TOKEN=hvs.x",
		"AWS_SECRET_ACCESS_KEY=s", "AWS_REGION=eu-west-1", "GOOGLE_APPLICATION_CREDENTIALS=/k.json", "AZURE_CLIENT_SECRET=z",
		"ARM_CLIENT_SECRET=a", "TF_VAR_db_password=p", "AGENTCTL_ENTRY=kubectl", "HTTPS_PROXY=http://evil", "TERM=xterm"}
	got := ChildEnv(agent, []string{"AWS_REGION", "AGENTCTL_*"})
	want := []string{"PATH=/bin", "HOME=/h", "LC_ALL=C", "AWS_REGION=eu-west-1", "TERM=xterm"}
	if !slices.Equal(got, want) {
		t.Errorf("ChildEnv = %q\nwant %q", got, want)
	}
	c := &Credential{Env: []string{"KUBECONFIG=/tmp/agentctl-cred-1/kubeconfig"}}
	env := c.Environ(append(got, "KUBECONFIG=/agent/choice"))
	if n := slices.Index(env, "KUBECONFIG=/tmp/agentctl-cred-1/kubeconfig"); n < 0 || slices.Contains(env, "KUBECONFIG=/agent/choice") {
		t.Errorf("Environ = %q", env)
	}
}

func TestCheckTargetFlags(t *testing.T) {
	cfg, err := Parse("/c/config.yaml", []byte(exampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		extra FlagAllow
		flag  string // refused flag, "" when allowed
	}{
		{"no target flags", []string{"get", "pods", "-n", "prod"}, FlagAllow{}, ""},
		{"context of a configured target", []string{"--context", "prod-eu", "get", "pods"}, FlagAllow{}, ""},
		{"context allowed by configuration", []string{"--context=kind-dev", "get", "pods"}, FlagAllow{}, ""},
		{"unconfigured context", []string{"get", "pods", "--context=other"}, FlagAllow{}, "context"},
		{"unconfigured context allowed by policy", []string{"--context", "other", "get", "pods"}, FlagAllow{Contexts: []string{"oth*"}}, ""},
		{"agent kubeconfig", []string{"--kubeconfig", "/tmp/admin.kubeconfig", "get", "pods"}, FlagAllow{}, "kubeconfig"},
		{"agent token", []string{"--token=abc", "get", "pods"}, FlagAllow{}, "token"},
		{"agent server short form", []string{"-s", "https://10.0.0.1:6443", "get", "pods"}, FlagAllow{}, "server"},
		{"agent user", []string{"--user", "admin", "get", "pods"}, FlagAllow{}, "user"},
		{"flags after -- belong to the command", []string{"exec", "p", "--", "curl", "--token", "x"}, FlagAllow{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := cfg.CheckTargetFlags(tt.args, tt.extra)
			var fe *FlagError
			switch {
			case tt.flag == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.flag != "" && (!errors.As(err, &fe) || fe.Flag != tt.flag):
				t.Fatalf("got %v, want --%s refused", err, tt.flag)
			case fe != nil && !strings.HasPrefix(fe.Hint(), "hint: "):
				t.Fatalf("hint %q", fe.Hint())
			}
		})
	}
}
