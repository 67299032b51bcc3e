package run

import "io"

// Stdio is where a command's standard streams go.
type Stdio struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// ExecReport says how a command ran.
type ExecReport struct {
	ExitCode int    `json:"exitCode"`
	Sandbox  string `json:"sandbox,omitempty"` // enforcement summary
	// Refused lists the destinations the sandbox refused (host:port).
	Refused     []string       `json:"refused,omitempty"`
	Identity    string         `json:"identity,omitempty"` // credential identity used, never the credential
	LeaseID     string         `json:"leaseId,omitempty"`
	OutputBytes int64          `json:"outputBytes"`
	Redactions  map[string]int `json:"redactions,omitempty"`
}
