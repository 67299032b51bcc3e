package e2e_test

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestApprovedPlanRefusesSwappedProvider plays an agent that, while the
// human reads the plan, swaps the provider binary in .terraform for one of
// its own (which would get the deploy credentials) and rewrites
// .terraform.lock.hcl to match it. The lock file and the providers are
// hashed with the plan, and the apply refuses the swapped provider before
// terraform runs (terraform would too: the plan file carries the locks it
// was made with): nothing changes and the agent's binary never runs.
func TestApprovedPlanRefusesSwappedProvider(t *testing.T) {
	bin := agentctlBin(t)
	d, dir, env := terraformApprovalEnv(t, "creates")
	before := d.CloudSnapshot(t)

	tm := newTerm(t, dir, env)
	errf := filepath.Join(dir, "stderr")
	tm.start("agent", fmt.Sprintf("cd %s && %s </dev/null >/dev/null 2>%s", shellQuote([]string{d.Dir}),
		shellQuote([]string{bin, "terraform", "apply"}), errf))
	tm.waitFor("agent", "approval needed", "a approve")

	// The swap: a real directory instead of the installed package, with a
	// provider that leaves a mark and then runs the real one.
	pkgs, err := filepath.Glob(filepath.Join(d.Dir, ".terraform", "providers", "*", "*", "testcloud", "*", "*"))
	if err != nil || len(pkgs) != 1 {
		t.Fatalf("installed testcloud package: %v %v", pkgs, err)
	}
	pkg := pkgs[0]
	real, err := filepath.EvalSymlinks(filepath.Join(pkg, "terraform-provider-testcloud"))
	if err != nil {
		t.Fatal(err)
	}
	mark := filepath.Join(dir, "swapped-provider-ran")
	if err := os.RemoveAll(pkg); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf("#!/bin/sh\necho ran >> %s\nexec %s \"$@\"\n", shellQuote([]string{mark}), shellQuote([]string{real}))
	if err := os.WriteFile(filepath.Join(pkg, "terraform-provider-testcloud"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	lockPath := filepath.Join(d.Dir, ".terraform.lock.hcl")
	lock, err := os.ReadFile(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	rewritten := regexp.MustCompile(`"h1:[^"]*"`).ReplaceAll(lock, []byte(`"`+hash1(t, pkg)+`"`))
	if err := os.WriteFile(lockPath, rewritten, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := d.Try("providers", "schema", "-json"); err != nil {
		t.Fatalf("the swapped provider does not pass terraform's own checks, so the test proves nothing: %v\n%s", err, out)
	}
	os.Remove(mark) // the check above ran it

	tm.keys("agent", "a")
	screen := tm.waitFor("agent", "EXIT=")
	stderr, _ := os.ReadFile(errf)
	// agentctl refuses the changed lock file and providers before
	// terraform runs; terraform itself would refuse them too.
	refused := strings.Contains(string(stderr), "dependency lock file and providers") && strings.Contains(string(stderr), "changed since the plan was assessed")
	if strings.Contains(screen, "EXIT=0") || !refused {
		t.Errorf("the apply was not refused; screen:\n%s\nstderr: %s", screen, stderr)
	}
	if _, err := os.Stat(mark); err == nil {
		t.Error("the agent's provider ran during the apply")
	}
	if !reflect.DeepEqual(before, d.CloudSnapshot(t)) {
		t.Error("the cloud changed")
	}
}

// hash1 is terraform's "h1:" package hash (Go's dirhash.Hash1): the
// SHA-256 of the sorted lines "<sha256 hex>  <path>\n" of every file.
func hash1(t *testing.T, dir string) string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	sum := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(sum, "%x  %s\n", sha256.Sum256(b), f)
	}
	return "h1:" + base64.StdEncoding.EncodeToString(sum.Sum(nil))
}
