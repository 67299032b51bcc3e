//go:build linux

package sandbox

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMountGrants(t *testing.T) {
	d := t.TempDir()
	for _, p := range []string{"proj/sub", "proj/.terraform", "other"} {
		if err := os.MkdirAll(filepath.Join(d, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	kc := filepath.Join(d, "kubeconfig")
	if err := os.WriteFile(kc, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p := func(rel string) string { return filepath.Join(d, rel) }
	tests := []struct {
		name string
		r    Rules
		want []mountGrant
	}{
		{
			name: "missing system paths are skipped, ReadOnly and ReadWrite kept",
			r:    Rules{SystemReadOnly: []string{"/usr", p("no-such-system-dir")}, ReadOnly: []string{kc}, ReadWrite: []string{p("proj")}},
			want: []mountGrant{{path: kc}, {path: p("proj"), write: true}, {path: "/usr"}},
		},
		{
			name: "the private /tmp and binds go in path order and cover nothing",
			r: Rules{ReadWrite: []string{p("proj")}, Scratch: p("other"), PrivateTmp: true,
				Binds: []Bind{{Src: kc, Dst: "/run/agentctl/broker.sock", Write: true}}},
			want: []mountGrant{{path: "/run/agentctl/broker.sock", write: true, src: kc}, {path: "/tmp", write: true, src: p("other")}, {path: p("proj"), write: true}},
		},
		{
			name: "a path inside a grant with at least its access is left out",
			r:    Rules{ReadOnly: []string{p("proj"), p("proj/sub")}, ReadWrite: []string{p("other")}},
			want: []mountGrant{{path: p("other"), write: true}, {path: p("proj")}},
		},
		{
			name: "a writable dir inside a read-only one is mounted writable over it",
			r:    Rules{ReadOnly: []string{p("proj")}, ReadWrite: []string{p("proj/.terraform")}},
			want: []mountGrant{{path: p("proj")}, {path: p("proj/.terraform"), write: true}},
		},
		{
			name: "a path granted twice is mounted once, writable if either grant is",
			r:    Rules{ReadOnly: []string{p("proj")}, ReadWrite: []string{p("proj")}},
			want: []mountGrant{{path: p("proj"), write: true}},
		},
		{
			name: "nothing granted: an empty root",
			r:    Rules{SystemReadOnly: []string{p("no-such-system-dir")}},
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mountGrants(tt.r); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("mountGrants() =\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

// TestSandboxRootHoldsOnlyGrants looks from inside the sandbox: the
// granted paths exist, their neighbours and the shared and runtime dirs
// do not.
func TestSandboxRootHoldsOnlyGrants(t *testing.T) {
	requireKernel(t)
	in := t.TempDir()
	file := filepath.Join(in, "input.yaml")
	beside := filepath.Join(in, "not-granted")
	for _, f := range []string{file, beside} {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	scratch := t.TempDir()
	other := t.TempDir() // beside the scratch dir in the same parent
	present := []string{file, scratch, "/usr/bin", "/dev/null", "/etc/passwd"}
	absent := []string{beside, other, "/run", "/var", "/proc/self", "/proc/1", "/home", "/root", "/dev/shm", "/dev/tty", "/etc/shadow"}
	cfg := Config{Entry: "stat", Argv: append(append([]string{}, present...), absent...), ReadOnly: []string{file}, Scratch: scratch, Required: true}
	code, out, enf, err := run(t, cfg, "")
	if err != nil || code != 0 {
		t.Fatalf("Run() = %d, %v\n%s", code, err, out)
	}
	if !enf.MountNS {
		t.Fatalf("no mount namespace: %v", enf)
	}
	t.Logf("inside:\n%s", out)
	for _, p := range present {
		if !strings.Contains(out, p+": exists\n") {
			t.Errorf("granted %s does not exist inside", p)
		}
	}
	for _, p := range absent {
		if !strings.Contains(out, p+": lstat "+p+": no such file or directory\n") {
			t.Errorf("%s exists inside, want it absent", p)
		}
	}
}
