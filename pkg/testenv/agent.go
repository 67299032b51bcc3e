package testenv

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// Agent is the ordinary OS user that end-to-end tests run agentctl as,
// the way a hostile agent would run it: not root, owning its home and
// working directory, unable to write what root owns. When the tests run
// as root (as CI does) it is nobody (65534); otherwise it is the test's
// own user, and [Agent.Cred] is nil.
type Agent struct {
	UID, GID int
	// Cred is what a command's SysProcAttr.Credential must be to run as
	// the agent; nil when the test itself runs as the agent's user.
	Cred *syscall.Credential
}

// AgentUID is the user the tests run agentctl as when they run as root.
const AgentUID = 65534

// AgentUser returns the agent's user for this test run.
func AgentUser(t testing.TB) *Agent {
	t.Helper()
	if os.Geteuid() != 0 {
		return &Agent{UID: os.Geteuid(), GID: os.Getegid()}
	}
	return &Agent{UID: AgentUID, GID: AgentUID, Cred: &syscall.Credential{Uid: AgentUID, Gid: AgentUID, NoSetGroups: true}}
}

// Root reports whether the tests run as root, so that the agent is
// another user than the test.
func (a *Agent) Root() bool { return a.Cred != nil }

// Dir returns a new empty directory owned by the agent, mode 0700, whose
// ancestors the agent can traverse. It is removed when the test ends.
func (a *Agent) Dir(t testing.TB) string {
	t.Helper()
	parent, err := os.MkdirTemp("", "agentctl-agent-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, "d")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	a.Own(t, dir)
	return dir
}

// Own makes the tree at path the agent's (chown -R), as if the agent had
// written it, and lets the agent traverse its ancestors.
func (a *Agent) Own(t testing.TB, path string) {
	t.Helper()
	a.Share(t, filepath.Dir(path))
	if !a.Root() {
		return
	}
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, a.UID, a.GID)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Share lets the agent read the tree at path (a+rX, owners unchanged) and
// traverse its ancestors up to the temporary directory: what root keeps
// there stays root's, readable and not writable by the agent.
func (a *Agent) Share(t testing.TB, path string) {
	t.Helper()
	if !a.Root() {
		return
	}
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink != 0 {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		mode := info.Mode().Perm() | 0o044
		if d.IsDir() || info.Mode()&0o100 != 0 {
			mode |= 0o011
		}
		return os.Chmod(p, mode)
	})
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Clean(os.TempDir())
	for dir := filepath.Dir(path); strings.HasPrefix(dir, tmp+string(filepath.Separator)); dir = filepath.Dir(dir) {
		info, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, info.Mode().Perm()|0o011); err != nil {
			t.Fatal(err)
		}
	}
}

// Give copies the file at src into a new directory of the agent's and
// returns the copy's path: a kubeconfig the agent holds, say.
func (a *Agent) Give(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(a.Dir(t), filepath.Base(src))
	if err := copyFile(src, dst); err != nil {
		t.Fatal(err)
	}
	a.Own(t, dst)
	return dst
}

// agentBins holds copies of cached test binaries that the agent can run:
// the cache is under root's home, which only root may enter.
var agentBins struct {
	sync.Mutex
	dir   string
	paths map[string]string
}

// AgentBin returns a path of the executable at path that the agent can
// run: path itself when the tests do not run as root, else a copy in a
// directory readable by everyone (made once per test binary, removed by
// [RunMain]).
func (a *Agent) Bin(t testing.TB, path string) string {
	t.Helper()
	if !a.Root() {
		return path
	}
	agentBins.Lock()
	defer agentBins.Unlock()
	if p, ok := agentBins.paths[path]; ok {
		return p
	}
	if agentBins.dir == "" {
		dir, err := os.MkdirTemp("", "agentctl-agent-bin-")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		agentBins.dir, agentBins.paths = dir, map[string]string{}
	}
	sub, err := os.MkdirTemp(agentBins.dir, "b")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(sub, filepath.Base(path))
	if err := copyFile(path, dst); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	agentBins.paths[path] = dst
	return dst
}

// removeAgentBins removes the copies [Agent.Bin] made.
func removeAgentBins() {
	agentBins.Lock()
	defer agentBins.Unlock()
	if agentBins.dir != "" {
		os.RemoveAll(agentBins.dir)
		agentBins.dir, agentBins.paths = "", nil
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
