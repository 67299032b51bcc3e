// Package request defines [Request], the first value of agentctl's
// pipeline: what an agent asked for, exactly as it asked.
package request

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"time"
)

// Request is one command an agent asked agentctl to run.
type Request struct {
	ID   string    // random, unique per request
	Time time.Time // when agentctl received it
	// Tool is "kubectl", "terraform" or "tofu".
	Tool string
	// Args are the arguments after the tool name, verbatim.
	Args []string
	// Stdin is the agent's standard input. Classifiers that need it read
	// it once and keep the bytes in the assessment's invocation.
	Stdin io.Reader
	Cwd   string
	// Env is the agent's environment (KEY=VALUE), as given. It is used
	// for classification (TF_CLI_ARGS, KUBECONFIG); the child's
	// environment is built separately from an allowlist.
	Env    []string
	Agent  string // agent identity (--agent / AGENTCTL_AGENT)
	Intent string // the agent's stated intent (--intent / AGENTCTL_INTENT)
}

// NewID returns a fresh random request id.
func NewID() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// Getenv returns the value of key in env, as os.Getenv would.
func Getenv(env []string, key string) string {
	v, _ := LookupEnv(env, key)
	return v
}

// LookupEnv looks key up in env; the last entry wins, as in execve.
func LookupEnv(env []string, key string) (string, bool) {
	val, ok := "", false
	for _, kv := range env {
		if len(kv) > len(key) && kv[len(key)] == '=' && kv[:len(key)] == key {
			val, ok = kv[len(key)+1:], true
		}
	}
	return val, ok
}
