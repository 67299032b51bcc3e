package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/request"
	"github.com/agentctl/agentctl/pkg/testenv"
)

// TestInboxReclassifiesTerraformFromThePlanJSON sends the inbox the apply
// of a real terraform plan that creates an IAM role and its attachment,
// with the class understated as write and no typed confirmation asked
// for: the inbox assesses the plan JSON the request's hash covers itself,
// shows privilege and demands the typed confirmation. A plan of creates
// only stays write.
func TestInboxReclassifiesTerraformFromThePlanJSON(t *testing.T) {
	for _, tc := range []struct {
		config  string
		want    classify.Class
		confirm bool
	}{
		{"iam", classify.Privilege, true},
		{"creates", classify.Write, false},
	} {
		t.Run(tc.config, func(t *testing.T) {
			d := testenv.NewTerraformDir(t, tc.config)
			planFile := filepath.Join(d.Dir, "p.tfplan")
			d.Run(t, "plan", "-input=false", "-out="+planFile)
			js, err := d.Try("show", "-json", planFile)
			if err != nil {
				t.Fatalf("show -json: %v\n%s", err, js)
			}
			b, err := os.ReadFile(planFile)
			if err != nil {
				t.Fatal(err)
			}
			a := &classify.Assessment{Tool: "terraform", Class: classify.Write, Subcommand: "apply",
				Plan: &classify.Plan{Path: planFile, SHA256: classify.SHA256(b), Summary: "2 to add.", JSON: []byte(js),
					CLIConfigSHA256: classify.SHA256(nil), ProvidersSHA256: classify.SHA256(nil)},
				Exec:   classify.Invocation{Args: []string{"apply", "-input=false", planFile}, Dir: d.Dir},
				Target: classify.Target{Dir: d.Dir, Workspace: "default"}}
			r := &approve.Request{Req: &request.Request{ID: "tf-" + tc.config, Tool: "terraform", Args: []string{"apply"}},
				Assessment: a, Expires: time.Now().Add(time.Minute)}
			r.Hash = approve.HashOf(r)

			dir, err := os.MkdirTemp("", "inbox")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			p := approve.Paths{Socket: filepath.Join(dir, "run", "inbox.sock"), Key: filepath.Join(dir, "cfg", "inbox.key"), Pub: filepath.Join(dir, "cfg", "inbox.pub")}
			key, err := approve.LoadOrCreateKey(p)
			if err != nil {
				t.Fatal(err)
			}
			srv, err := approve.Listen(p, key, approve.ServerOptions{Classify: inboxClassifier()})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			defer srv.Close()
			go srv.Serve(ctx)
			go (&approve.Inbox{Paths: p}).Approve(ctx, r)
			pend := <-srv.Requests()
			defer pend.Answer(approve.Verdict{})
			if pend.Screen.Class != tc.want || pend.Screen.Confirm != tc.confirm {
				t.Errorf("inbox screen: class %v, confirm %v; want %v, confirm %v (reasons %q)", pend.Screen.Class, pend.Screen.Confirm, tc.want, tc.confirm, pend.Screen.Reasons)
			}
		})
	}
}
