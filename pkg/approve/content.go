package approve

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"

	"github.com/agentctl/agentctl/pkg/classify"
)

// Content is one approval request as it travels to the inbox: the screen
// a human is shown and the invocation that runs if they approve. The
// approval hash is computed over all of it ([Content.Sum]), and the
// requester verifies the signed answer against the hash it computed
// itself; the inbox recomputes the hash from the content it received and
// refuses a request whose content does not match it. So a program between
// the two (a relay on a socket the agent chose) can change nothing the
// human sees without the answer becoming worthless.
type Content struct {
	Screen *Screen `json:"screen"`
	Exec   Exec    `json:"exec"`
}

// Exec is what runs if the request is approved, as the inbox receives it.
// Unlike the screen it holds the argv unmasked, the manifest bytes and the
// terraform plan JSON, so that the inbox can classify the request itself
// ([ServerOptions.Classify]);
// the kubeconfig snapshot and the plan file travel as their SHA-256 only.
type Exec struct {
	Tool             string   `json:"tool"`
	Args             []string `json:"args"`
	Dir              string   `json:"dir,omitempty"`
	Stdin            []byte   `json:"stdin,omitempty"`
	KubeconfigSHA256 string   `json:"kubeconfigSha256,omitempty"`
	PlanSHA256       string   `json:"planSha256,omitempty"`
	// CLIConfigSHA256 and ProvidersSHA256 are those of the terraform CLI
	// configuration, lock file and providers the plan is applied with.
	CLIConfigSHA256 string `json:"cliConfigSha256,omitempty"`
	ProvidersSHA256 string `json:"providersSha256,omitempty"`
	// PlanJSON is the plan (terraform show -json) the requester assessed
	// the apply from, for the inbox to assess again.
	PlanJSON []byte `json:"planJson,omitempty"`
}

// ContentOf is what is sent to the inbox for r.
func ContentOf(r *Request) *Content {
	c := &Content{Screen: NewScreen(r)}
	if a := r.Assessment; a != nil {
		c.Exec = Exec{Tool: a.Tool, Args: a.Exec.Args, Dir: a.Exec.Dir, Stdin: a.Exec.Stdin}
		if a.Exec.Kubeconfig != nil {
			c.Exec.KubeconfigSHA256 = classify.SHA256(a.Exec.Kubeconfig)
		}
		if a.Plan != nil {
			c.Exec.PlanSHA256 = a.Plan.SHA256
			c.Exec.CLIConfigSHA256 = a.Plan.CLIConfigSHA256
			c.Exec.ProvidersSHA256 = a.Plan.ProvidersSHA256
			c.Exec.PlanJSON = a.Plan.JSON
		}
	}
	return c
}

// Sum is the approval hash of c: the SHA-256 of the invocation's fields,
// length-prefixed under a domain-separation tag, and of the screen as
// JSON, all of it but what the inbox fills in itself (the hash, the
// requester's pid, the word to type, which follows from the target).
func (c *Content) Sum() string {
	h := sha256.New()
	field := func(s string) {
		// Length-prefix every field so no two field lists collide.
		h.Write(strconv.AppendInt(nil, int64(len(s)), 10))
		h.Write([]byte{':'})
		h.Write([]byte(s))
		h.Write([]byte{'\n'})
	}
	field("agentctl-approval-v3")
	x := c.Exec
	field(x.Tool)
	field(strconv.Itoa(len(x.Args)))
	for _, arg := range x.Args {
		field(arg)
	}
	field(x.Dir)
	if x.Stdin != nil {
		field(classify.SHA256(x.Stdin))
	} else {
		field("")
	}
	field(x.KubeconfigSHA256)
	field(x.PlanSHA256)
	field(x.CLIConfigSHA256)
	field(x.ProvidersSHA256)
	if x.PlanJSON != nil {
		field(classify.SHA256(x.PlanJSON))
	} else {
		field("")
	}
	var s Screen
	if c.Screen != nil {
		s = *c.Screen
	}
	s.Hash, s.PID, s.ConfirmWord = "", 0, ""
	s.Time, s.Expires = s.Time.UTC(), s.Expires.UTC()
	b, err := json.Marshal(&s)
	if err != nil {
		// A Screen is strings, numbers and times: it always marshals.
		panic(err)
	}
	field(string(b))
	return hex.EncodeToString(h.Sum(nil))
}
