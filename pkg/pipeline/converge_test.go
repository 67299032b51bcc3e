package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/agentctl/agentctl/pkg/audit"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/converge"
	"github.com/agentctl/agentctl/pkg/policy"
	"github.com/agentctl/agentctl/pkg/request"
	"github.com/agentctl/agentctl/pkg/run"
)

// cluster is a converge.Source in memory; the e2e tests use a real one.
type cluster struct {
	objs map[string]*unstructured.Unstructured
	err  error
}

func (c *cluster) Get(_ context.Context, r converge.Ref) (*unstructured.Unstructured, error) {
	if c.err != nil {
		return nil, c.err
	}
	return c.objs[r.Kind+"/"+r.Name], nil
}

func (c *cluster) Owned(context.Context, string, []string) ([]*unstructured.Unstructured, error) {
	return nil, c.err
}

func TestConvergenceIsAuditedAfterTheResult(t *testing.T) {
	cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c", "namespace": "shop"}, "data": map[string]any{"k": "v"}}}
	scale := &classify.Assessment{Tool: "kubectl", Class: classify.Write, Subcommand: "label",
		Resources: []classify.Resource{{Version: "v1", Kind: "ConfigMap", Resource: "configmaps", Namespace: "shop", Name: "c", Source: classify.SourceArgv}},
		Exec:      classify.Invocation{Args: []string{"label", "cm", "c", "team=web"}}}
	tests := []struct {
		name  string
		src   *cluster
		state converge.State
		error string
	}{
		{"a label that is not there diverges", &cluster{objs: map[string]*unstructured.Unstructured{"ConfigMap/c": cm}}, converge.Diverged, ""},
		{"a cluster that went away: a clear error, the change still audited as applied", &cluster{err: errors.New("connection refused")}, converge.Error, "cannot read the cluster to check convergence: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			log, err := audit.Open(path, audit.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer log.Close()
			p, _, _ := pipelineWith(scale, nil, policy.Allow, nil)
			p.Auditor = &LogAuditor{Log: log}
			var done *converge.Report
			p.Convergence = &Convergence{Timeout: time.Second, Interval: time.Millisecond,
				Cluster: func(context.Context, *classify.Assessment) (converge.Source, func(), error) {
					return tt.src, func() {}, nil
				},
				Done: func(r *converge.Report) { done = r },
			}
			// The executor exits 3: a convergence check runs only after
			// a change that succeeded, so make it succeed.
			p.Executor = exitWith(0)
			code, err := p.Run(context.Background(), &request.Request{Tool: "kubectl", ID: "r1"}, run.Stdio{})
			if err != nil || code != 0 {
				t.Fatalf("run = %d, %v: the check must not change the outcome", code, err)
			}
			if done == nil || done.State != tt.state || !strings.Contains(done.Error, tt.error) {
				t.Fatalf("report = %+v, want %s %q", done, tt.state, tt.error)
			}
			f, _ := os.Open(path)
			defer f.Close()
			var kinds []string
			audit.Scan(f, func(rec *audit.Record, _ []byte) error {
				kinds = append(kinds, string(rec.Kind)+":"+rec.ID)
				if rec.Kind == audit.KindResult && !rec.Executed {
					t.Errorf("the change is not audited as applied")
				}
				if rec.Kind == audit.KindConvergence && (rec.Convergence == nil || rec.Convergence.State != tt.state || len(rec.Convergence.Intents) != 1) {
					t.Errorf("convergence record = %+v", rec.Convergence)
				}
				return nil
			})
			if strings.Join(kinds, " ") != "decision:r1 result:r1 convergence:r1" {
				t.Errorf("records = %v, want decision, result, convergence of the same request", kinds)
			}
		})
	}
}

type exitWith int

func (e exitWith) Execute(context.Context, *classify.Assessment, policy.Decision, run.Stdio) (*run.ExecReport, error) {
	return &run.ExecReport{ExitCode: int(e)}, nil
}
