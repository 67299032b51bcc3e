// Package exitcode is the one home of agentctl's own exit codes.
//
// The wrapped tool's own exit code passes through unchanged; agentctl
// exits with one of these only when it speaks for itself. They follow
// BSD sysexits(3) where one fits. docs/agents.md lists them for agents.
//
// # Codes
//
//   - [OK] (0): agentctl ran nothing of its own that failed.
//   - [Usage] (2): agentctl itself was called wrongly (a flag, a manifest
//     that cannot be read).
//   - [Internal] (70): an internal failure, a broker that went away;
//     nothing ran (or what ran was killed).
//   - [Audit] (74): an audit record could not be written: nothing ran.
//   - [Denied] (77): refused by policy, by an approver, or by a check
//     that needs no policy (a target outside the configured ones, an
//     input that changed after approval).
//   - [Config] (78): a configuration that cannot be used (policy, admin
//     config, credentials configuration).
//
// This package imports nothing, so every layer may use it.
package exitcode

const (
	OK       = 0
	Usage    = 2
	Internal = 70 // EX_SOFTWARE
	Audit    = 74 // EX_IOERR
	Denied   = 77 // EX_NOPERM
	Config   = 78 // EX_CONFIG
)
