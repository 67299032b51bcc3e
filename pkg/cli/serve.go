package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/audit"
	"github.com/agentctl/agentctl/pkg/boot"
	"github.com/agentctl/agentctl/pkg/broker"
	"github.com/agentctl/agentctl/pkg/broker/client"
	"github.com/agentctl/agentctl/pkg/exitcode"
)

// readyFDEnv names the descriptor a background `serve` tells its starter
// on that it listens (or why it cannot).
const readyFDEnv = "AGENTCTL_SERVE_READY_FD"

const readyLine = "broker serving at "

type serveOptions struct {
	Foreground bool
	Socket     string
	Warm       int
	// InstallUnit writes the systemd user unit instead of serving;
	// Print prints it.
	InstallUnit bool
	Print       bool
	// Web serves the web approval page (--web ADDR).
	Web webOptions
}

func newServeCmd(f *Factory) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the per-user broker that runs every agentctl command of this user",
		Long: `serve starts the broker: a long-lived agentctl listening on
$XDG_RUNTIME_DIR/agentctl/broker.sock. While it runs, "agentctl kubectl …",
"agentctl terraform …", "agentctl tofu …", "agentctl explain …" and the shims
hand their command to it; it runs each in an agentctl process of its own
(started ahead and initialised: --warm) with the broker's own configuration, credentials config, policy, audit log and
caches, never the client's environment (docs/protocol.md). Only processes
of this user may connect.

Without --foreground it starts in the background and returns once the
socket is ready; its messages go to broker.log beside the socket.
--install-unit writes a systemd user unit that runs it instead.

--web ADDR also serves the web approval page (docs/approval.md): the
requests waiting for a human, answered with a passkey enrolled with
"agentctl approvers enroll". PORT alone or a loopback address serves
http://localhost:PORT; any other address is served over TLS only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serveRun(cmd.Context(), f, o)
		},
	}
	cmd.Flags().BoolVar(&o.Foreground, "foreground", false, "stay in the foreground (for a terminal or a service manager)")
	cmd.Flags().BoolVar(&o.InstallUnit, "install-unit", false, "write the systemd user unit that runs the broker to ~/.config/systemd/user/ and exit")
	cmd.Flags().BoolVar(&o.Print, "print", false, "with --install-unit: print the unit instead of writing it")
	cmd.Flags().IntVar(&o.Warm, "warm", 2, "how many prestarted workers wait for requests (0: start each fresh)")
	cmd.Flags().StringVar(&o.Socket, "socket", "", "the socket to listen on (default $XDG_RUNTIME_DIR/agentctl/broker.sock)")
	cmd.Flags().StringVar(&o.Web.Addr, "web", "", "serve the web approval page on HOST:PORT (or PORT, on the loopback address); off by default")
	cmd.Flags().StringVar(&o.Web.Cert, "web-cert", "", "with --web: the TLS certificate (PEM) to serve, instead of a generated self-signed one")
	cmd.Flags().StringVar(&o.Web.Key, "web-key", "", "with --web-cert: its private key (PEM)")
	cmd.Flags().StringVar(&o.Web.URL, "web-url", "", "with --web: the origin the browser opens, such as https://laptop.lan:8844 (passkeys are bound to its host name)")
	return cmd
}

// serveSocket is the socket serve listens on: --socket, else the
// default clients use without AGENTCTL_SOCKET.
func serveSocket(f *Factory, o *serveOptions) (string, error) {
	if o.Socket != "" {
		if !filepath.IsAbs(o.Socket) {
			return "", &UsageError{Err: fmt.Errorf("--socket %q is not an absolute path", o.Socket)}
		}
		return o.Socket, nil
	}
	p := client.Socket(func(k string) string {
		if k == client.SocketEnv {
			return ""
		}
		return f.Getenv(k)
	})
	if p == "" {
		return "", &ConfigError{Err: &hintError{msg: "cannot place the broker's socket: XDG_RUNTIME_DIR is not set", hint: "pass --socket PATH (and give clients AGENTCTL_SOCKET=PATH)"}}
	}
	return p, nil
}

func serveRun(ctx context.Context, f *Factory, o *serveOptions) error {
	switch {
	case o.Print && !o.InstallUnit:
		return &UsageError{Err: errors.New("--print needs --install-unit")}
	case o.InstallUnit && (o.Foreground || o.Socket != ""):
		return &UsageError{Err: errors.New("cannot set --install-unit and --foreground or --socket at the same time")}
	case o.InstallUnit:
		return installUnit(f, o.Print)
	}
	if o.Warm < 0 {
		return &UsageError{Err: fmt.Errorf("--warm %d: want 0 or more", o.Warm)}
	}
	if err := o.Web.validate(); err != nil {
		return err
	}
	sock, err := serveSocket(f, o)
	if err != nil {
		return err
	}
	if !o.Foreground {
		return serveBackground(f, sock, o.Warm, o.Web.args())
	}
	ready := func(string) {}
	if fd := f.Getenv(readyFDEnv); fd != "" {
		n, _ := strconv.Atoi(fd)
		w := os.NewFile(uintptr(n), "ready")
		ready = func(line string) { fmt.Fprintln(w, line); w.Close() }
	}
	err = serveForeground(ctx, f, sock, o.Warm, &o.Web, ready)
	if err != nil {
		ready("error: " + err.Error())
	}
	return err
}

func serveForeground(ctx context.Context, f *Factory, sock string, warm int, web *webOptions, ready func(string)) error {
	admin, err := loadAdmin(f)
	if err != nil {
		return err
	}
	log, auditPath, err := openAuditLog(f)
	if err != nil {
		return err
	}
	defer log.Close()
	exp, err := auditExporter(f, auditPath)
	if err != nil {
		return err
	}
	defer exportLoop(ctx, f, exp)()
	exe, err := f.Executable()
	if err != nil {
		return fmt.Errorf("cannot find agentctl's own binary: %w", err)
	}
	ln, err := broker.Listen(sock)
	if err != nil {
		return err
	}
	defer ln.Close()
	// The inbox attaches on the approver socket; its workers ask at the
	// inbox socket they would ask one-shot, where the broker then listens.
	aln, err := broker.ListenApprover(ln)
	if err != nil {
		return err
	}
	defer aln.Close()
	pin, err := inboxPin(f)
	if err != nil {
		return err
	}
	inbox, _ := approve.PinnedPaths(f.Getenv, pin)
	var env []string
	for _, kv := range f.Environ {
		if !strings.HasPrefix(kv, readyFDEnv+"=") {
			env = append(env, kv)
		}
	}
	var mu sync.Mutex
	srv := &broker.Server{
		Exe:     exe,
		Env:     env,
		Version: version,
		Warm:    warm,
		Runs:    client.Forwardable,
		Event: func(ev broker.Event) {
			rec := audit.NewBrokerEvent(ev.PeerUID, ev.PeerPID, ev.What, errText(ev.Err), time.Now().UTC())
			if tool, args, ok := boot.ToolArgs(ev.Argv); ok {
				rec.Tool, rec.Args = tool, audit.MaskArgs(tool, args)
			}
			rec.Cwd = ev.Cwd
			mu.Lock()
			defer mu.Unlock()
			if err := log.Append(rec); err != nil {
				fmt.Fprintf(f.IO.ErrOut, "agentctl: broker: %s\n", err)
			}
			fmt.Fprintf(f.IO.ErrOut, "agentctl: broker: %s (uid %d, pid %d): %s\n", ev.What, ev.PeerUID, ev.PeerPID, errText(ev.Err))
		},
		Ready: func() {
			line := fmt.Sprintf("%s%s (pid %d)", readyLine, sock, os.Getpid())
			fmt.Fprintf(f.IO.ErrOut, "agentctl: %s\n", line)
			ready(line)
		},
	}
	srv.HTTP = brokerMCPHandler(f, sock, env)
	srv.InboxSocket = inbox.Socket
	if web.Addr != "" {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		if err := startWeb(ctx, f, web, srv, pin, admin.Approval.Notify); err != nil {
			return err
		}
	}
	go srv.ServeApprover(ctx, aln)
	return srv.Serve(ctx, ln)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// serveBackground starts `serve --foreground` in a new session, detached
// from this terminal, and returns once it listens or has failed.
func serveBackground(f *Factory, sock string, warm int, web []string) error {
	exe, err := f.Executable()
	if err != nil {
		return fmt.Errorf("cannot find agentctl's own binary: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(sock), 0o700); err != nil {
		return fmt.Errorf("cannot create the broker's directory: %w", err)
	}
	logPath := filepath.Join(filepath.Dir(sock), "broker.log")
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("cannot open the broker's log: %w", err)
	}
	defer logf.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	cmd := exec.Command(exe, append([]string{"serve", "--foreground", "--socket", sock, "--warm", strconv.Itoa(warm)}, web...)...)
	cmd.Env = append(append([]string{}, f.Environ...), readyFDEnv+"=3")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// Not childproc: the broker outlives this process by design.
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("cannot start the broker: %w", err)
	}
	w.Close()
	line, _ := bufio.NewReader(r).ReadString('\n')
	line = strings.TrimSpace(line)
	cmd.Process.Release()
	if !strings.HasPrefix(line, readyLine) {
		if msg, ok := strings.CutPrefix(line, "error: "); ok {
			return fmt.Errorf("the broker did not start: %s", msg)
		}
		return &hintError{msg: "the broker did not start", hint: "see " + logPath}
	}
	fmt.Fprintf(f.IO.ErrOut, "agentctl: %s\n", line)
	return nil
}

// brokerGate refuses a command the broker would have run when root's
// config says `broker: required` and this process is not a broker's
// worker: the client found no broker (client.Main returned). It returns
// the exit code and whether the command must stop.
//
// A worker runs only what the broker runs (the wrapped tools and
// explain): the broker checks, and a worker asked for anything else
// refuses it too, so no gap in the one check lets a jailed agent run
// agentctl's other commands with the human's keys.
func brokerGate(f *Factory, argv []string, stderr io.Writer) (int, bool) {
	if _, worker := os.LookupEnv(client.WorkerEnv); worker {
		if client.Forwardable(argv) {
			return 0, false
		}
		what := "agentctl" // and the command, not a flag's value: it may be secret
		if len(argv) > 1 && !strings.HasPrefix(argv[1], "-") {
			what += " " + argv[1]
		}
		fmt.Fprintf(stderr, "agentctl: a broker's worker runs kubectl, terraform, tofu and explain only, not %q\n", what)
		return exitcode.Denied, true
	}
	if !client.Forwardable(argv) {
		return 0, false
	}
	admin, err := loadAdmin(f)
	if err != nil || admin.Broker != "required" {
		return 0, false // a broken config is refused by the pipeline
	}
	sock := client.Socket(f.Getenv)
	if sock == "" {
		sock = "$XDG_RUNTIME_DIR/agentctl/broker.sock"
	}
	fmt.Fprintf(stderr, "agentctl: no broker at %s\nhint: the admin requires one (%s: broker: required): start it with `agentctl serve`\n",
		sock, filepath.Join(f.adminDir(), "config.yaml"))
	return exitcode.Internal, true
}
