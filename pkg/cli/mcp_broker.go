package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/agentctl/agentctl/pkg/broker"
	"github.com/agentctl/agentctl/pkg/broker/client"
	"github.com/agentctl/agentctl/pkg/broker/proto"
	"github.com/agentctl/agentctl/pkg/exitcode"
)

// brokerConn is the broker agentctl mcp forwards its tool calls to, as
// the shims forward theirs: a broker at the socket (AGENTCTL_SOCKET;
// inside agentctl run, the jail's), unless this process is one of its
// workers. nil and no error: no broker answers, and the call runs
// one-shot. The broker's own MCP face (viaBroker) has no one-shot to
// fall back to: a broker it cannot reach is an error.
func brokerConn(f *Factory) (*client.Conn, error) {
	if f.Getenv(client.WorkerEnv) != "" {
		return nil, nil
	}
	sock := client.Socket(f.Getenv)
	if sock == "" {
		return nil, nil
	}
	c, err := client.Dial(sock)
	if err != nil {
		if f.viaBroker {
			return nil, fmt.Errorf("the broker is not answering: %w", err)
		}
		return nil, nil
	}
	return c, nil
}

// brokerMCPHandler is the broker's MCP face: the tools of agentctl mcp
// over streamable HTTP on the broker's socket (broker.Server.HTTP). Each
// session gets a server whose calls are forwarded to the broker at sock
// as a shim's would be, so they run in its workers, under its policy
// and audit log, in the working directory the client had when it
// connected (/proc/PID/cwd of its peer; Linux). env is the broker's
// environment.
func brokerMCPHandler(f *Factory, sock string, env []string) http.Handler {
	return mcp.NewStreamableHTTPHandler(func(r *http.Request) *mcp.Server {
		peer, ok := broker.PeerOf(r.Context())
		if !ok {
			return nil
		}
		cwd, cwdErr := os.Readlink(fmt.Sprintf("/proc/%d/cwd", peer.PID))
		if cwdErr != nil {
			cwdErr = fmt.Errorf("cannot read the working directory of the client (pid %d): %w", peer.PID, cwdErr)
		}
		environ := []string{client.SocketEnv + "=" + sock}
		for _, kv := range env {
			if !strings.HasPrefix(kv, client.SocketEnv+"=") {
				environ = append(environ, kv)
			}
		}
		cf := &Factory{
			IO:         &IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: f.IO.ErrOut},
			Environ:    environ,
			Executable: f.Executable,
			Getwd:      func() (string, error) { return cwd, cwdErr },
			AdminDir:   f.AdminDir,
			noTTY:      true,
			viaBroker:  true,
		}
		return newMCPServer(cf)
	}, nil)
}

// brokerRun runs a tool call in the broker: argv as the CLI would send
// it, with the call's intent and the client's name, and --output json, so
// that a refusal comes back as the one JSON object the CLI prints. The
// worker has no terminal: a change waits for agentctl inbox, as one-shot.
func brokerRun(ctx context.Context, f *Factory, c *client.Conn, req *mcp.CallToolRequest, tool string, in runInput) (*mcp.CallToolResult, runOutput, error) {
	cf := callFactory(f, req, nil, io.Discard, io.Discard, in.Intent)
	argv := []string{"agentctl", "--output", "json", "--report-result"}
	if cf.Global.Intent != "" {
		argv = append(argv, "--intent", cf.Global.Intent)
	}
	if cf.Global.Agent != "" {
		argv = append(argv, "--agent", cf.Global.Agent)
	}
	argv = append(append(argv, tool), in.Argv...)
	stopProgress := brokerProgress(ctx, progressTo(ctx, req))
	code, stdout, stderr, err := forward(ctx, f, c, argv, in.Stdin)
	stopProgress()
	out := runOutput{ExitCode: code}
	if err != nil {
		out.Error = err.Error()
		var pe *proto.Error
		if errors.As(err, &pe) {
			out.Hint = pe.Hint
		}
	}
	errText := stderr.String()
	if obj, rest, ok := jsonRefusal(errText, code); ok {
		out.Error, out.Hint, out.Reason = obj.Error, obj.Hint, obj.Reason
		out.Class, out.Decision, out.Rule, out.RequestID, out.Approver = obj.Class, obj.Decision, obj.Rule, obj.RequestID, obj.Approver
		errText = rest
	} else if res, rest, ok := reportedResult(errText, code); ok {
		out.Class, out.Decision, out.Rule, out.RequestID, out.Approver = res.Class, res.Decision, res.Rule, res.RequestID, res.Approver
		errText = rest
	}
	out.Stdout, out.Stderr, out.Note = stdout.String(), errText, cutNote(stdout, stderr)
	return &mcp.CallToolResult{IsError: code != 0 || err != nil}, out, nil
}

// brokerExplain is the explain tool in the broker: what the broker's
// world (its kubeconfig, policy and terraform) would decide.
func brokerExplain(ctx context.Context, f *Factory, c *client.Conn, in explainInput) (*mcp.CallToolResult, any, error) {
	argv := append([]string{"agentctl", "--output", "json", "explain", "--", in.Tool}, in.Argv...)
	code, stdout, stderr, err := forward(ctx, f, c, argv, in.Stdin)
	if err != nil {
		return nil, nil, err
	}
	if code != 0 {
		if obj, _, ok := jsonRefusal(stderr.String(), code); ok {
			if obj.Hint != "" {
				return nil, nil, fmt.Errorf("%s\nhint: %s", obj.Error, obj.Hint)
			}
			return nil, nil, errors.New(obj.Error)
		}
		return nil, nil, fmt.Errorf("explain exited %d: %s", code, strings.TrimSpace(stderr.String()))
	}
	return nil, redactedJSON([]byte(stdout.String())), nil
}

// forward runs argv in the broker on c with stdin (nil: none) and
// returns the exit code and what the command wrote, each stream capped.
// Cancelling ctx closes the connection: the broker kills the command, and
// a pending approval with it.
func forward(ctx context.Context, f *Factory, c *client.Conn, argv []string, stdin *string) (int, *cappedBuffer, *cappedBuffer, error) {
	stdout, stderr := &cappedBuffer{max: maxToolOutput}, &cappedBuffer{max: maxToolOutput}
	cwd, err := f.Getwd()
	if err != nil {
		c.Close()
		return exitcode.Internal, stdout, stderr, err
	}
	// The worker's three streams are pipes: theirs go to the broker,
	// ours are read (and written) here.
	var theirs, ours [3]*os.File
	defer func() {
		for _, p := range append(theirs[:], ours[:]...) {
			if p != nil {
				p.Close()
			}
		}
	}()
	for i := range theirs {
		r, w, err := os.Pipe()
		if err != nil {
			c.Close()
			return exitcode.Internal, stdout, stderr, err
		}
		if i == 0 {
			theirs[i], ours[i] = r, w
		} else {
			theirs[i], ours[i] = w, r
		}
	}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		if stdin != nil {
			io.WriteString(ours[0], *stdin)
		}
		ours[0].Close()
	}()
	for i, buf := range []*cappedBuffer{stdout, stderr} {
		go func() {
			defer wg.Done()
			io.Copy(buf, ours[i+1])
		}()
	}
	type answer struct {
		code int
		err  error
	}
	done := make(chan answer, 1)
	go func() {
		code, err := client.Forward(c, &proto.Request{Argv: argv, Cwd: cwd, Env: client.ClientEnv(f.Environ)}, theirs, nil)
		done <- answer{code, err}
	}()
	var a answer
	select {
	case a = <-done:
	case <-ctx.Done():
		c.Close()
		a = <-done
		if a.err == nil {
			a.err = ctx.Err()
		}
	}
	// The broker holds its own copies of theirs: ours end when the
	// worker has exited.
	for i := range theirs {
		theirs[i].Close()
		theirs[i] = nil
	}
	wg.Wait()
	return a.code, stdout, stderr, a.err
}

// refusalJSON is the part of the CLI's --output json refusal that a tool
// result carries.
type refusalJSON struct {
	Error     string `json:"error"`
	ExitCode  *int   `json:"exitCode"`
	Hint      string `json:"hint"`
	Reason    string `json:"reason"`
	Class     string `json:"class"`
	Decision  string `json:"decision"`
	Rule      string `json:"rule"`
	RequestID string `json:"requestId"`
	Approver  string `json:"approver"`
}

// jsonRefusal finds the CLI's JSON refusal at the end of stderr: the last
// line, an object whose exitCode is the command's, when that is one of
// agentctl's own codes. rest is stderr without it.
func jsonRefusal(stderr string, code int) (refusalJSON, string, bool) {
	var r refusalJSON
	switch code {
	case exitcode.Internal, exitcode.Audit, exitcode.Denied, exitcode.Config:
	default:
		return r, stderr, false
	}
	body := strings.TrimSuffix(stderr, "\n")
	i := strings.LastIndexByte(body, '\n')
	line := body[i+1:]
	if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &r) != nil || r.ExitCode == nil || *r.ExitCode != code || r.Error == "" {
		return refusalJSON{}, stderr, false
	}
	return r, body[:i+1], true
}

// reportedResult finds the line --report-result wrote at the very end of
// stderr, after everything the command wrote (which need not have ended
// its last line), for a command that exited code. rest is stderr
// without it.
func reportedResult(stderr string, code int) (resultLine, string, bool) {
	var r resultLine
	body := strings.TrimSuffix(stderr, "\n")
	i := strings.LastIndex(body, `{"agentctl":"result",`)
	if i < 0 || strings.ContainsRune(body[i:], '\n') {
		return r, stderr, false
	}
	if json.Unmarshal([]byte(body[i:]), &r) != nil || r.Agentctl != "result" || r.ExitCode != code {
		return resultLine{}, stderr, false
	}
	return r, body[:i], true
}

// brokerProgress tells the client, every progressEvery while a call runs
// in the broker, that it still runs: the worker may be waiting for a
// human, which only the worker knows. stop ends it.
func brokerProgress(ctx context.Context, notify func(n int, msg string)) (stop func()) {
	if notify == nil {
		return func() {}
	}
	return everyProgress(ctx, notify, func(d time.Duration) string {
		return fmt.Sprintf("still running in the broker after %s: a change may be waiting for a human in agentctl inbox", d.Round(time.Second))
	})
}
