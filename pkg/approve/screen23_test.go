package approve

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
)

func TestConfirmForDeletesAndNoOps(t *testing.T) {
	del := func(open bool, n int, errText string) (*classify.Assessment, *Live) {
		a := &classify.Assessment{Tool: "kubectl", Class: classify.Destructive, Subcommand: "delete",
			Matches: &classify.Matches{Args: []string{"cm"}, Open: open}}
		l := &Live{Open: open, Error: errText}
		for i := 0; i < n; i++ {
			l.Objects = append(l.Objects, LiveObject{Kind: "ConfigMap", Name: "c"})
		}
		return a, l
	}
	priv := &classify.Assessment{Tool: "kubectl", Class: classify.Privilege, Subcommand: "apply",
		Reasons: []classify.Reason{{Class: classify.Privilege, Message: "apply changes who can do what"}}}
	pruned := &classify.Assessment{Tool: "kubectl", Class: classify.Privilege, Subcommand: "apply",
		Reasons: []classify.Reason{{Class: classify.Privilege, Message: "x"}, {Class: classify.Destructive, Message: "apply --prune deletes objects"}}}
	confirm := policy.Decision{Action: policy.Approve, Rule: "privilege-needs-human", Confirm: true}
	for _, tc := range []struct {
		name string
		r    Request
		want bool
	}{
		{"delete of one named object: a key", func() Request { a, l := del(false, 1, ""); return Request{Assessment: a, Live: l} }(), false},
		{"delete of two named objects: typed", func() Request { a, l := del(false, 2, ""); return Request{Assessment: a, Live: l} }(), true},
		{"delete by selector matching one now: typed (open)", func() Request { a, l := del(true, 1, ""); return Request{Assessment: a, Live: l} }(), true},
		{"delete whose matches could not be read: typed", func() Request { a, l := del(false, 0, "forbidden"); return Request{Assessment: a, Live: l} }(), true},
		{"delete not read at all: typed", func() Request { a, _ := del(false, 1, ""); return Request{Assessment: a} }(), true},
		{"terraform destroy: typed", Request{Assessment: &classify.Assessment{Tool: "terraform", Class: classify.Destructive, Subcommand: "destroy"}}, true},
		{"terraform apply deleting one: a key", Request{Assessment: &classify.Assessment{Tool: "terraform", Class: classify.Destructive, Subcommand: "apply",
			Resources: []classify.Resource{{Action: "delete"}, {Action: "create"}}}}, false},
		{"privilege apply: typed", Request{Assessment: priv, Decision: confirm}, true},
		{"privilege apply the dry run found a no-op: a key", Request{Assessment: priv, Decision: confirm, NoOp: true}, false},
		{"no-op under the lockout: typed", Request{Assessment: priv, Decision: policy.Decision{Rule: policy.RuleLockout, Confirm: true}, NoOp: true}, true},
		{"no-op with prune: typed", Request{Assessment: pruned, Decision: confirm, NoOp: true}, true},
		{"no-op of unknown: typed", Request{Assessment: &classify.Assessment{Tool: "kubectl", Class: classify.Unknown}, NoOp: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := NewScreen(&tc.r).Confirm; got != tc.want {
				t.Errorf("Confirm = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTerraformVarsShownUnlessSensitive(t *testing.T) {
	a := &classify.Assessment{Tool: "terraform", Plan: &classify.Plan{Variables: map[string]bool{"image": false, "db_pass": true, "api_token": false}}}
	args := []string{"apply", "-var", "image=debian-13", "-var=db_pass=hunter2", "-var", "undeclared=x", "-var", "api_token=t0k", "-var=image=https://u:pw@h/x"}
	got := commandArgs("terraform", args, a)
	want := []string{"apply", "-var", "image=debian-13", "-var=db_pass=***", "-var", "undeclared=***", "-var", "api_token=***", "-var=image=https://u:***@h/x"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	// Without a plan nothing is known: every value stays masked.
	if got := commandArgs("terraform", args, &classify.Assessment{Tool: "terraform"}); got[2] != "image=***" {
		t.Errorf("without a plan: %q", got)
	}
}

func TestParseLive(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	out := "Deployment shop web 2025-02-27T09:14:02Z 3 nginx:1.27,sidecar:2 <none>\n" +
		"Pod shop web-0 2025-03-01T11:59:30Z <none> <none> web:1\n" +
		"ClusterRole <none> ops 2025-01-01T00:00:00Z <none> <none> <none>\n"
	objs, err := ParseLive(out, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []LiveObject{
		{Kind: "Deployment", Namespace: "shop", Name: "web", Summary: "replicas 3, images nginx:1.27,sidecar:2, age 2d2h"},
		{Kind: "Pod", Namespace: "shop", Name: "web-0", Summary: "image web:1, age 30s"},
		{Kind: "ClusterRole", Name: "ops", Summary: "age 59d"},
	}
	if !reflect.DeepEqual(objs, want) {
		t.Errorf("got %+v\nwant %+v", objs, want)
	}
	if _, err := ParseLive("a b c", now); err == nil || !strings.Contains(err.Error(), "unexpected") {
		t.Errorf("short line: %v", err)
	}
}
