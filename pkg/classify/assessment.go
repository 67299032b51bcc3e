package classify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Source says where a resource was found.
const (
	SourceArgv     = "argv"
	SourceManifest = "manifest"
	SourcePlan     = "plan"
	SourceRaw      = "raw"
)

// Resource is one object a command touches.
type Resource struct {
	Group     string `json:"group,omitempty"`
	Version   string `json:"version,omitempty"`
	Kind      string `json:"kind,omitempty"`
	Resource  string `json:"resource,omitempty"` // plural resource name, e.g. "deployments"
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	// Address is a terraform resource address; empty for Kubernetes.
	Address string `json:"address,omitempty"`
	// Type is a terraform resource type; empty for Kubernetes.
	Type string `json:"type,omitempty"`
	// Provider is a terraform resource's provider address
	// ("registry.terraform.io/hashicorp/aws"); empty for Kubernetes.
	Provider string `json:"provider,omitempty"`
	// Action is what the command does to the resource: get, list, create,
	// update, delete, replace, read, no-op, forget, apply, patch, ...
	Action string `json:"action,omitempty"`
	Source string `json:"source"`
	Class  Class  `json:"class"`
}

// Reason is one finding that raised (or confirmed) the class.
type Reason struct {
	Class   Class  `json:"class"`
	Message string `json:"message"`
}

// Target is what the command acts on.
type Target struct {
	// Kubernetes
	Kubeconfig string `json:"kubeconfig,omitempty"`
	Context    string `json:"context,omitempty"`
	Cluster    string `json:"cluster,omitempty"`
	Server     string `json:"server,omitempty"`
	// ServerFlag says Server comes from --server, not the kubeconfig.
	ServerFlag bool `json:"-"`
	// CASHA256 is the SHA-256 of the DER of the certificate authority
	// kubectl checks the server's certificate against (lowercase hex), ""
	// when there is none, it is not exactly one certificate, or the
	// certificate is not checked (insecure-skip-tls-verify).
	CASHA256 string `json:"caSha256,omitempty"`
	// ProxyURL is the cluster's proxy-url, which kubectl would connect
	// through.
	ProxyURL  string `json:"proxyUrl,omitempty"`
	User      string `json:"user,omitempty"` // the kubeconfig user entry's name, never its credentials
	Namespace string `json:"namespace,omitempty"`
	// Terraform
	Dir       string `json:"dir,omitempty"`
	Workspace string `json:"workspace,omitempty"`
	// Env is the environment name (prod, staging, dev, unknown) the policy
	// engine mapped the target to; classifiers leave it empty.
	Env string `json:"env,omitempty"`
}

// String describes the target on one line: "context=x cluster=y
// namespace=z" for Kubernetes, "workspace=w dir=d" for terraform; "" when
// nothing is known.
func (t Target) String() string {
	var parts []string
	for _, kv := range [][2]string{{"context", t.Context}, {"cluster", t.Cluster}, {"namespace", t.Namespace}, {"workspace", t.Workspace}, {"dir", t.Dir}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	return strings.Join(parts, " ")
}

// Invocation is exactly what runs if the command is allowed: the argv handed
// to the tool and, when the tool reads manifests from stdin, the exact bytes
// fed to it. Classifiers rewrite file arguments into "-f -" so that what was
// assessed is what runs.
type Invocation struct {
	Args []string `json:"args"`
	// Stdin, when non-nil, is fed to the tool instead of the agent's stdin.
	Stdin []byte `json:"-"`
	// PassStdin says the agent's stdin is handed through (kubectl exec -i).
	PassStdin bool `json:"passStdin,omitempty"`
	// Env holds extra environment entries the tool needs (never credentials).
	Env []string `json:"-"`
	// Kubeconfig, when set, is the snapshot of the kubeconfig the command
	// was assessed against; kubectl runs with exactly these bytes.
	Kubeconfig []byte `json:"-"`
	// Dir is the working directory the tool runs in.
	Dir string `json:"dir,omitempty"`
	// Scratch, when set, is a private directory holding copies of the
	// files the command reads (see the kubectl classifier); it is removed
	// when the request is over.
	Scratch string `json:"-"`
	// Resolved lists what the classifier took each resource type argument
	// and manifest kind of a kubectl command to mean. The embedded kubectl
	// resolves them again through its own discovery before it sends
	// anything, and refuses to run when the two disagree.
	Resolved []Resolution `json:"-"`
}

// Resolution is one resource type as the kubectl classifier resolved it:
// either a type argument (Arg, as kubectl's resource builder reads it) or a
// manifest object's APIVersion and Kind, and the resources it names.
type Resolution struct {
	// Arg is a type argument ("cm", "deployments.apps", "all").
	Arg string `json:"arg,omitempty"`
	// Tuple says Arg came from a TYPE/NAME argument, which kubectl does not
	// expand as a category.
	Tuple bool `json:"tuple,omitempty"`
	// APIVersion and Kind name a manifest object's type.
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	// To are the resources the classifier resolved it to.
	To []ResolvedResource `json:"to"`
}

// ResolvedResource is one resource a [Resolution] names.
type ResolvedResource struct {
	Group      string `json:"group"`
	Resource   string `json:"resource"`
	Namespaced bool   `json:"namespaced"`
}

// String is "resource.group" (just "resource" for the core group), with
// "(cluster-scoped)" for a resource that is not namespaced.
func (r ResolvedResource) String() string {
	s := r.Resource
	if r.Group != "" {
		s += "." + r.Group
	}
	if !r.Namespaced {
		s += " (cluster-scoped)"
	}
	return s
}

// Plan describes a terraform plan file an assessment was made from.
type Plan struct {
	Path    string `json:"path"`
	SHA256  string `json:"sha256"`
	Summary string `json:"summary"` // "2 to add, 1 to change, 1 to destroy."
	// Owned is true when agentctl made the plan file itself.
	Owned bool `json:"owned"`
	// Rendered is the human-readable plan (terraform show), for approval.
	Rendered string `json:"-"`
	// Variables are the root module's input variables the configuration
	// declares, each with whether it is marked sensitive.
	Variables map[string]bool `json:"-"`
	// JSON is the plan as terraform show -json printed it, the bytes the
	// class was assessed from; it travels to the inbox, which assesses
	// them again.
	JSON []byte `json:"-"`
	// CLIConfig is terraform's CLI configuration as read once while
	// planning; the apply runs with these bytes, not with the file.
	CLIConfig []byte `json:"-"`
	// CLIConfigPath is the file CLIConfig was read from ("" for none).
	CLIConfigPath string `json:"cliConfigPath,omitempty"`
	// CLIConfigSHA256 is the SHA-256 of CLIConfig.
	CLIConfigSHA256 string `json:"cliConfigSha256,omitempty"`
	// ProvidersSHA256 covers the dependency lock file and the installed
	// provider binaries at plan time (terraform.ProvidersSHA256).
	ProvidersSHA256 string `json:"providersSha256,omitempty"`
}

// Assessment is what a classifier found out about one command.
type Assessment struct {
	Tool       string     `json:"tool"`
	Class      Class      `json:"class"`
	Subcommand string     `json:"subcommand"`
	DryRun     bool       `json:"dryRun,omitempty"`
	Resources  []Resource `json:"resources"`
	Target     Target     `json:"target"`
	Reasons    []Reason   `json:"reasons"`
	// ManifestSHA256 is the SHA-256 of Exec.Stdin when manifests were read.
	ManifestSHA256 string `json:"manifestSha256,omitempty"`
	// Manifests are the manifest inputs the command names, as written and
	// in kubectl's order: the -f values, or the -k directory. What runs
	// reads none of them (it reads Exec.Stdin); they name what was read,
	// for a proposal bundle beside them (docs/ci.md).
	Manifests []string   `json:"-"`
	Plan      *Plan      `json:"plan,omitempty"`
	Exec      Invocation `json:"exec"`
	// Refused, when set, says why the command cannot run whatever any
	// policy or approver says: what would run was not (and cannot be)
	// assessed, such as a manifest kubectl would fetch from a URL.
	Refused string `json:"refused,omitempty"`
	// RefusedHint, when set, says what to do instead of what was refused.
	RefusedHint string `json:"-"`
	// ToolError, when set, is how the wrapped tool itself would reject
	// the command before doing anything (an unknown subcommand with no
	// plugin for it, a resource type the server does not have): agentctl
	// answers with the tool's own message and exit code. Refused is set
	// too.
	ToolError *ToolError `json:"toolError,omitempty"`
	// Discovery says whether the cluster's own discovery was asked
	// ("live") or not ("offline").
	Discovery string `json:"discovery,omitempty"`
	// Matches, set for a kubectl delete, says how to list the objects it
	// would delete now, for the approval screen. It changes nothing that
	// runs.
	Matches *Matches `json:"-"`
}

// Matches selects the objects of a kubectl delete the way the delete
// selects them: the same type and name arguments (or the same manifests,
// "-f -" with the assessed bytes), the same label and field selectors, the
// same --all and --all-namespaces. Target flags (kubeconfig, context,
// namespace) are not in Args: they come from the invocation.
type Matches struct {
	// Args are kubectl get arguments without the verb and target flags.
	Args []string
	// Selector describes the selection for a human: "-l app=web",
	// "--all", "--field-selector status.phase=Failed"; "" for names only.
	Selector string
	// Open says the set is not fixed by names: objects created or
	// relabelled between the screen and the run are matched too.
	Open bool
}

// Raise lifts the assessment's class to c (if c is higher) and records why.
// Every finding is recorded, including ones that do not raise the class.
func (a *Assessment) Raise(c Class, format string, args ...any) {
	a.Class = Max(a.Class, c)
	a.Reasons = append(a.Reasons, Reason{Class: c, Message: fmt.Sprintf(format, args...)})
}

// Refuse marks the command as one that must not run, and records why.
func (a *Assessment) Refuse(c Class, format string, args ...any) {
	a.Raise(c, format, args...)
	if a.Refused == "" {
		a.Refused = a.Reasons[len(a.Reasons)-1].Message
	}
}

// ToolError is the wrapped tool's own rejection of a command.
type ToolError struct {
	// Stderr is what the tool prints, byte for byte.
	Stderr string `json:"stderr"`
	// ExitCode is the tool's exit code.
	ExitCode int `json:"exitCode"`
}

// RejectAsTool marks the command as one the tool itself would reject
// before doing anything, with the tool's stderr and exit code; why is the
// reason recorded (and refused) in agentctl's words. Only the first
// rejection is kept, as the tool stops at its first error.
//
// The class is Unknown: the command is none the tool has.
func (a *Assessment) RejectAsTool(exit int, stderr, format string, args ...any) {
	first := a.Refused == ""
	a.Refuse(Unknown, format, args...)
	if first {
		a.ToolError = &ToolError{Stderr: stderr, ExitCode: exit}
	}
}

// RefuseHint is [Assessment.Refuse] with a hint that tells the user what
// to do instead.
func (a *Assessment) RefuseHint(c Class, hint, format string, args ...any) {
	first := a.Refused == ""
	a.Refuse(c, format, args...)
	if first {
		a.RefusedHint = hint
	}
}

// SetManifest records the exact manifest bytes that will be fed to the tool.
func (a *Assessment) SetManifest(b []byte) {
	a.Exec.Stdin = b
	a.ManifestSHA256 = SHA256(b)
}

// SHA256 returns the lowercase hex SHA-256 of b.
func SHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
