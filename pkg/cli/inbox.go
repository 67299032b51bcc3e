package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"os/user"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/broker"
	"github.com/agentctl/agentctl/pkg/broker/client"
	"github.com/agentctl/agentctl/pkg/classify"
	kubectlclass "github.com/agentctl/agentctl/pkg/classify/kubectl"
	tfclass "github.com/agentctl/agentctl/pkg/classify/terraform"
	"github.com/agentctl/agentctl/pkg/exitcode"
	"github.com/agentctl/agentctl/pkg/request"
	"github.com/agentctl/agentctl/pkg/tui"
)

// newInboxCmd returns `agentctl inbox`, the approval inbox for a second
// terminal.
func newInboxCmd(f *Factory) *cobra.Command {
	var plain bool
	cmd := &cobra.Command{
		Use:   "inbox",
		Short: "Answer approval requests of every agentctl process of this user",
		Long: `Run the approval inbox: a screen, for a terminal of its own, that lists
the requests of every agentctl process of this user waiting for a human,
shows each one as the terminal prompt would, and answers it.

The inbox listens on $XDG_RUNTIME_DIR/agentctl/inbox.sock (a 0700
directory), or on root's approval.inboxSocket. While a broker (agentctl
serve) runs, it attaches to the broker's approver socket instead, and the
broker hands it the requests of its workers and of this user's other
agentctl processes (docs/protocol.md). Each answer is signed with
the inbox key, created on first run in $XDG_CONFIG_HOME/agentctl/inbox.key
(0600); agentctl verifies the signature (with root's
approval.inboxPublicKey when set), the request it names and its expiry
before it runs anything. While an inbox runs, agentctl asks it instead of
the terminal.

A request carries what would run (argv, manifests) and what it shows; the
inbox recomputes the request's hash from them and refuses, unseen, one
that does not match. It classifies kubectl requests again itself, and a
privilege change or an unclassifiable one needs the target's name typed.

With --plain the inbox prints each request as text and reads one answer
per line: "y" approves (the target's name, for a change that needs
confirmation), "n: REASON" denies with a reason, anything else denies.

Whoever types into the inbox approves, so it runs only on a terminal, and
not on one a program in another terminal holds (an agent's own
pseudo-terminal). Answering through a pipe (a chat bridge) needs root's
approval.inboxPipe: true in /etc/agentctl/config.yaml.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !f.IO.IsStdinTTY() || !f.IO.IsStdoutTTY() {
				admin, err := loadAdmin(f)
				if err != nil {
					return err
				}
				if !admin.Approval.InboxPipe {
					return &UsageError{Err: &hintError{
						msg:  "agentctl inbox needs a terminal: whatever writes its input approves",
						hint: "run it in a terminal of your own; for a program that relays a human's answers, root sets approval.inboxPipe: true in /etc/agentctl/config.yaml",
					}}
				}
				plain = true
			} else if who, pid, driven := approve.TerminalDriver(); driven {
				return &deniedTerminal{who: who, pid: pid}
			}
			pin, err := inboxPin(f)
			if err != nil {
				return err
			}
			paths, err := approve.DefaultPaths(f.Getenv)
			if err != nil {
				return &ConfigError{Err: err}
			}
			if pin.Socket != "" {
				paths.Socket = pin.Socket
			}
			key, err := approve.LoadOrCreateKey(paths)
			if err != nil {
				return &ConfigError{Err: err}
			}
			if pub := key.Public().(ed25519.PublicKey); pin.Trusted != nil && !pin.Trusted.Equal(pub) {
				return &ConfigError{Err: &hintError{
					msg: fmt.Sprintf("the inbox key %q (key id %s) is not the one approval.inboxPublicKey trusts (key id %s): agentctl would refuse every answer",
						paths.Key, approve.KeyID(pub), approve.KeyID(pin.Trusted)),
					hint: fmt.Sprintf("root sets approval.inboxPublicKey in /etc/agentctl/config.yaml to the public key at %q", paths.Pub),
				}}
			}
			name := ""
			if u, err := user.Current(); err == nil {
				name = u.Username
			}
			opts := approve.ServerOptions{Approver: name, Classify: inboxClassifier()}
			var srv *approve.InboxServer
			if att, err := attachBroker(f); err != nil {
				return err
			} else if att != nil {
				srv = approve.Serve(att, key, opts)
			} else if srv, err = approve.Listen(paths, key, opts); err != nil {
				return err
			}
			defer srv.Close()
			if plain {
				return tui.RunInboxPlain(cmd.Context(), srv, f.IO.In, f.IO.Out)
			}
			return tui.RunInbox(cmd.Context(), srv, f.IO.In, f.IO.Out, tuiOptions(f))
		},
	}
	cmd.Flags().BoolVar(&plain, "plain", false, "answer line by line instead of on a screen")
	return cmd
}

// inboxClassifier classifies requests on the inbox's side from the bytes
// the request's hash covers, offline: kubectl's argv and manifest bytes
// (no discovery, no kubeconfig), terraform's and tofu's argv and the plan
// JSON the apply was assessed from (with the shipped privilege types).
func inboxClassifier() func(context.Context, *approve.Exec) (classify.Class, []string, error) {
	kc := kubectlclass.New(kubectlclass.Options{})
	tc := tfclass.New(tfclass.Options{})
	return func(ctx context.Context, x *approve.Exec) (classify.Class, []string, error) {
		var a *classify.Assessment
		var err error
		switch x.Tool {
		case "kubectl":
			a, err = kc.Classify(ctx, &request.Request{ID: "inbox", Tool: "kubectl", Args: x.Args, Stdin: bytes.NewReader(x.Stdin), Cwd: x.Dir})
			if a != nil && a.Exec.Scratch != "" {
				os.RemoveAll(a.Exec.Scratch)
			}
		case "terraform", "tofu":
			a, err = tc.ClassifyOffline(x.Args, x.PlanJSON)
		default:
			return classify.Unknown, []string{fmt.Sprintf("unknown tool %q", x.Tool)}, nil
		}
		if err != nil {
			return classify.Unknown, nil, err
		}
		var why []string
		for _, r := range a.Reasons {
			if r.Class == a.Class {
				why = append(why, r.Class.String()+": "+r.Message)
			}
		}
		return a.Class, why, nil
	}
}

// deniedTerminal refuses to run the inbox on a terminal a program drives:
// that program could answer for the human.
type deniedTerminal struct {
	who string
	pid int
}

func (e *deniedTerminal) Error() string {
	return fmt.Sprintf("this terminal belongs to %q (pid %d), a program running in another terminal that can type into this one: the inbox would take its answers as a human's", e.who, e.pid)
}
func (e *deniedTerminal) Hint() string  { return "run agentctl inbox in a terminal of your own" }
func (e *deniedTerminal) ExitCode() int { return exitcode.Denied }

// attachBroker attaches the inbox to this user's running broker, on the
// approver socket beside the broker's: the broker then hands it every
// request its workers and this user's one-shot agentctl processes make.
// No broker: nil, and the inbox listens on its own socket.
func attachBroker(f *Factory) (*broker.Attached, error) {
	sock := client.Socket(f.Getenv)
	if sock == "" {
		return nil, nil
	}
	path := broker.ApproverSocket(sock)
	att, err := broker.Attach(path)
	if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot attach to the broker at %q: %w", path, err)
	}
	return att, nil
}
