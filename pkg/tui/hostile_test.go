package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/request"
)

// TestScreenShowsHostileTextAsText gives the approval screen an agent's
// worst: an intent that clears the screen and homes the cursor, an
// argument that moves the cursor up over the command line, a namespace
// with a bidirectional override, a diff that carries a carriage return.
// Neither the screen nor the line-based report passes one of them to the
// terminal; each shows as a visible escape.
func TestScreenShowsHostileTextAsText(t *testing.T) {
	a := &classify.Assessment{Tool: "kubectl", Class: classify.Destructive,
		Target:    classify.Target{Context: "prod", Namespace: "web\u202eved"},
		Resources: []classify.Resource{{Kind: "ConfigMap", Resource: "configmaps", Namespace: "web", Name: "x\x1b[2K", Action: "delete"}}}
	s := approve.NewScreen(&approve.Request{
		Req: &request.Request{ID: "r", Tool: "kubectl", Args: []string{"delete", "cm", "x\x1b[3A"},
			Intent: "look \x1b[2J\x1b[Hjust reading pods", Agent: "bot\x07"},
		Assessment: a,
		Diff:       "-data: a\r+data: b\n",
		Expires:    time.Now().Add(time.Minute),
	})
	m := NewModel(s, Options{NoColor: true, Width: 120, Height: 40, Location: time.UTC})
	for name, out := range map[string]string{"screen": m.View(), "report": PlainReport(s)} {
		for _, raw := range []string{"\x1b[2J", "\x1b[H", "\x1b[3A", "\x1b[2K", "\u202e", "\r", "\x07"} {
			if strings.Contains(out, raw) {
				t.Errorf("%s passes %q to the terminal", name, raw)
			}
		}
		for _, shown := range []string{`\x1b[2J\x1b[Hjust reading pods`, `x\x1b[3A`, `web\u202eved`, `\x0d`} {
			if !strings.Contains(strings.Join(strings.Fields(out), " "), shown) {
				t.Errorf("%s does not show %q:\n%s", name, shown, out)
			}
		}
	}
	if s.ConfirmWord != "" && strings.ContainsRune(s.ConfirmWord, 0x202e) {
		t.Errorf("the word to type holds the override: %q", s.ConfirmWord)
	}
}
