package terraform_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"syscall"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/classify/terraform"
	"github.com/agentctl/agentctl/pkg/request"
	"github.com/agentctl/agentctl/policies"
)

// plan500 builds the JSON of a plan with n resource changes, shaped like
// terraform 1.5's show -json (planned values, prior state, changes with
// before and after objects): mostly creates and updates of instances,
// some deletes, replaces and IAM changes.
func plan500(n int) []byte {
	types := []string{"aws_instance", "aws_s3_bucket", "aws_iam_role", "aws_security_group_rule", "google_compute_instance"}
	actions := [][]string{{"create"}, {"update"}, {"no-op"}, {"delete"}, {"delete", "create"}, {"create", "delete"}}
	var changes, planned, prior []map[string]any
	for i := 0; i < n; i++ {
		typ, name := types[i%len(types)], fmt.Sprintf("r%d", i)
		addr := fmt.Sprintf("module.m%d.%s.%s", i%7, typ, name)
		attrs := map[string]any{"id": fmt.Sprintf("id-%d", i), "name": name, "tags": map[string]any{"team": "infra", "env": "prod"},
			"size": "m5.large", "count": i, "enabled": i%2 == 0, "cidrs": []any{"10.0.0.0/8", "192.168.0.0/16"},
			"description": "a resource generated for the classification benchmark", "zone": "eu-west-1a"}
		after := map[string]any{}
		for k, v := range attrs {
			after[k] = v
		}
		after["size"] = "m5.xlarge"
		act := actions[i%len(actions)]
		var before any = attrs
		if act[0] == "create" && len(act) == 1 {
			before = nil
		}
		changes = append(changes, map[string]any{"address": addr, "module_address": fmt.Sprintf("module.m%d", i%7),
			"mode": "managed", "type": typ, "name": name, "provider_name": "registry.example/hashicorp/" + typ[:3],
			"change": map[string]any{"actions": act, "before": before, "after": after, "after_unknown": map[string]any{},
				"before_sensitive": map[string]any{}, "after_sensitive": map[string]any{"tags": map[string]any{}}}})
		res := map[string]any{"address": addr, "mode": "managed", "type": typ, "name": name,
			"provider_name": "registry.example/hashicorp/" + typ[:3], "schema_version": 0, "values": after, "sensitive_values": map[string]any{}}
		planned = append(planned, res)
		prior = append(prior, res)
	}
	plan := map[string]any{
		"format_version": "1.2", "terraform_version": "1.5.7",
		"planned_values":   map[string]any{"root_module": map[string]any{"resources": planned}},
		"resource_changes": changes,
		"output_changes": map[string]any{"password": map[string]any{"actions": []string{"update"},
			"before": "a", "after": "b", "before_sensitive": true, "after_sensitive": true}},
		"prior_state": map[string]any{"format_version": "1.0", "terraform_version": "1.5.7",
			"values": map[string]any{"root_module": map[string]any{"resources": prior}}},
	}
	b, err := json.Marshal(plan)
	if err != nil {
		panic(err)
	}
	return b
}

func privilege(tb testing.TB) terraform.Privilege {
	types, err := policies.TerraformPrivilegeTypes()
	if err != nil {
		tb.Fatal(err)
	}
	return terraform.Privilege(types)
}

func TestGeneratedPlan500Classifies(t *testing.T) {
	var full tfjson.Plan
	if err := json.Unmarshal(plan500(500), &full); err != nil {
		t.Fatal(err)
	}
	p, err := terraform.ParsePlanJSON(plan500(500))
	if err != nil {
		t.Fatal(err)
	}
	r := terraform.AssessPlan(p, privilege(t))
	if rf := terraform.AssessPlan(&full, privilege(t)); !reflect.DeepEqual(r, rf) {
		t.Errorf("the lean reading and terraform-json's full reading disagree:\n%+v\n%+v", r, rf)
	}
	if len(r.Resources) != 500 || r.Class != classify.Privilege {
		t.Fatalf("%d resources, class %s", len(r.Resources), r.Class)
	}
	// 84 creates, 84 updates, 83 no-ops, 83 deletes, 166 replaces.
	if want := "Plan: 250 to add, 84 to change, 249 to destroy."; r.Summary != want {
		t.Errorf("summary %q, want %q", r.Summary, want)
	}
}

// BenchmarkClassifyPlan500 measures reading a 500-resource plan's JSON
// and classifying it (goal: 20 ms or less per plan).
func BenchmarkClassifyPlan500(b *testing.B) {
	data := plan500(500)
	priv := privilege(b)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	start := cpuTime()
	defer func() {
		// CPU time (user+system, GC included) per plan: on a shared
		// machine it says more than wall time.
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e6, "cpu-ms/op")
	}()
	for i := 0; i < b.N; i++ {
		p, err := terraform.ParsePlanJSON(data)
		if err != nil {
			b.Fatal(err)
		}
		if r := terraform.AssessPlan(p, priv); len(r.Resources) != 500 {
			b.Fatal(len(r.Resources))
		}
	}
}

// BenchmarkClassifyPlanCommand measures what agentctl adds to a
// `terraform plan` before running it: reading the command line.
func BenchmarkClassifyPlanCommand(b *testing.B) {
	c := terraform.New(terraform.Options{})
	req := &request.Request{Tool: "terraform", Cwd: b.TempDir(),
		Args: []string{"-chdir=.", "plan", "-input=false", "-var=a=b", "-out=x.tfplan"},
		Env:  []string{"TF_CLI_ARGS_plan=-refresh=false -no-color"}}
	for i := 0; i < b.N; i++ {
		if a, err := c.Classify(context.Background(), req); err != nil || a.Class != classify.Read {
			b.Fatal(a, err)
		}
	}
}

// cpuTime returns the process's user+system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
