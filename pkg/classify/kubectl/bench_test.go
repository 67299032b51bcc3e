package kubectl

import (
	"bytes"
	"context"
	"syscall"
	"time"

	"k8s.io/cli-runtime/pkg/resource"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/request"
)

// BenchmarkClassifyArgv measures an argv-only classification with flags
// before the verb and a kubeconfig on disk (cached after the first call).
func BenchmarkClassifyArgv(b *testing.B) {
	c := New(Options{})
	r := req(b, strings.Fields("-n prod --context=prod delete deploy/web -l app=web --dry-run=none"), "")
	ctx := context.Background()
	b.ReportAllocs()
	start := cpuClock()
	for b.Loop() {
		if _, err := c.Classify(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start)
}

// BenchmarkClassifyManifest100 measures apply of a 100-object multi-document
// manifest read from stdin, including building the stream that runs.
func BenchmarkClassifyManifest100(b *testing.B) {
	c := New(Options{})
	data, err := os.ReadFile(filepath.Join("testdata", "manifests", "hundred.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	dir := testdata(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	start := cpuClock()
	for b.Loop() {
		r := &request.Request{Tool: "kubectl", Args: []string{"apply", "-f", "-"}, Cwd: dir,
			Env: []string{"KUBECONFIG=" + filepath.Join(dir, "kubeconfig")}, Stdin: strings.NewReader(string(data))}
		a, err := c.Classify(ctx, r)
		if err != nil || len(a.Resources) != 100 {
			b.Fatal(err, len(a.Resources))
		}
	}
	reportCPU(b, start)
}

// cpuClock reports this process's CPU time (user+system): on a shared
// machine, wall time per op measures the neighbours; CPU time does not.
func cpuClock() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds a cpu-ns/op metric for the loop that ran since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuClock()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkKubectlParseArgv is the baseline for BenchmarkClassifyArgv:
// kubectl's own cobra Find and flag parse of the same argv, nothing else.
func BenchmarkKubectlParseArgv(b *testing.B) {
	tr := newTree()
	args := strings.Fields("-n prod --context=prod delete deploy/web -l app=web --dry-run=none")
	b.ReportAllocs()
	start := cpuClock()
	for b.Loop() {
		cmd, rest, err := tr.root.Find(args)
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.ParseFlags(rest); err != nil {
			b.Fatal(err)
		}
		resetFlags(cmd)
	}
	reportCPU(b, start)
}

// BenchmarkKubectlBuilderManifest100 is the baseline for
// BenchmarkClassifyManifest100: kubectl's own resource builder decoding
// the same stream locally, without any classification.
func BenchmarkKubectlBuilderManifest100(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "manifests", "hundred.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	start := cpuClock()
	for b.Loop() {
		n := 0
		err := resource.NewLocalBuilder().Unstructured().Stream(bytes.NewReader(data), "bench").Flatten().
			Do().Visit(func(*resource.Info, error) error { n++; return nil })
		if err != nil || n != 100 {
			b.Fatal(err, n)
		}
	}
	reportCPU(b, start)
}
