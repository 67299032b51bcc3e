package run

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/agentctl/agentctl/pkg/childproc"
	"github.com/agentctl/agentctl/pkg/exitcode"
)

// EntryEnv is the environment variable that marks a child agentctl process
// started to run an in-process entry (such as the embedded kubectl) outside
// the sandbox. The entry's arguments come through an inherited pipe (file
// descriptor 3), never through argv or the environment, so they do not show
// in ps and cannot be supplied by accident.
const EntryEnv = "AGENTCTL_ENTRY"

type childSpec struct {
	Args []string `json:"args"`
}

// MaybeEntry runs an in-process entry when this process is such a child.
// It returns ok=false in every other process.
func MaybeEntry(entries map[string]func(args []string) int) (code int, ok bool) {
	name := os.Getenv(EntryEnv)
	if name == "" {
		return 0, false
	}
	os.Unsetenv(EntryEnv)
	entry, found := entries[name]
	if !found {
		fmt.Fprintf(os.Stderr, "agentctl: unknown entry %q\n", name)
		return exitcode.Internal, true
	}
	f := os.NewFile(3, "agentctl-spec")
	if f == nil {
		fmt.Fprintln(os.Stderr, "agentctl: entry started without its specification")
		return exitcode.Internal, true
	}
	var spec childSpec
	err := json.NewDecoder(io.LimitReader(f, 16<<20)).Decode(&spec)
	f.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "agentctl: cannot read entry specification: %v\n", err)
		return exitcode.Internal, true
	}
	return entry(spec.Args), true
}

// startEntry runs an in-process entry of this binary in a child process and
// waits for it. env is the child's complete environment.
func startEntry(ctx context.Context, self, name string, args []string, env []string, dir string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	spec, err := json.Marshal(childSpec{Args: args})
	if err != nil {
		return 0, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	cmd := exec.CommandContext(ctx, self)
	cmd.Args = []string{"agentctl-" + name}
	cmd.Env = append(withoutKey(env, EntryEnv), EntryEnv+"="+name)
	cmd.Dir = dir
	cmd.Stdin = stdin
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	cmd.ExtraFiles = []*os.File{r}
	if _, err := childproc.StartContained(cmd); err != nil {
		w.Close()
		return 0, fmt.Errorf("cannot start %s: %w", name, err)
	}
	_, werr := io.Copy(w, bytes.NewReader(spec))
	w.Close()
	err = cmd.Wait()
	if werr != nil && err == nil {
		return 0, fmt.Errorf("cannot hand the command to %s: %w", name, werr)
	}
	return exitCode(err)
}

// exitCode turns a Wait error into the child's exit code.
func exitCode(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if code := ee.ExitCode(); code >= 0 {
			return code, nil
		}
		return 128 + 9, nil // killed by a signal
	}
	return 0, err
}

func withoutKey(env []string, key string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}
