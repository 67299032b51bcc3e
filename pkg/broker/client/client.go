// Package client is the client side of agentctl's broker: it finds the
// broker's socket, and forwards a command to it (argv, working directory,
// the allowed environment, the standard streams as descriptors, signals),
// returning the command's exit code. docs/protocol.md is the protocol.
//
// It runs from package early's init, before the rest of agentctl
// initialises, so a forwarded command never pays for kubectl's packages.
// For that it must import nothing that initialises late: Go initialises
// the package with the lexically smallest import path among those whose
// dependencies are done, so one dependency such as "net" (which sorts
// after github.com/…, golang.org/…, k8s.io/…) holds package early back
// until every ready package before "net" has initialised, kubectl's
// included. It speaks to the socket with package syscall for that
// reason. [Main] is the entry.
package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/agentctl/agentctl/pkg/boot"
	"github.com/agentctl/agentctl/pkg/broker/proto"
	"github.com/agentctl/agentctl/pkg/exitcode"
)

// WorkerEnv is set in the environment of the broker's workers, which run
// the request themselves instead of forwarding it.
const WorkerEnv = "AGENTCTL_BROKER_WORKER"

// SocketEnv names the broker socket clients use.
const SocketEnv = "AGENTCTL_SOCKET"

// TTYEnv is set in a worker's environment, by the broker only, when the
// client passed its controlling terminal: the descriptor number the
// worker has it on (docs/protocol.md, "The client's terminal").
const TTYEnv = "AGENTCTL_BROKER_TTY"

// ClientPIDEnv is set beside TTYEnv: the client's pid (SO_PEERCRED's),
// whose terminal that is.
const ClientPIDEnv = "AGENTCTL_BROKER_CLIENT_PID"

// ExitWentAway is the client's exit code when the broker fails it: 70,
// agentctl's internal error.
const ExitWentAway = exitcode.Internal

// ErrWentAway is a broker whose connection ended before the command's
// exit code came.
var ErrWentAway = errors.New("broker went away")

// Socket is the broker socket a client uses: AGENTCTL_SOCKET, else
// $XDG_RUNTIME_DIR/agentctl/broker.sock, else "" (no broker).
func Socket(getenv func(string) string) string {
	if p := getenv(SocketEnv); p != "" {
		return p
	}
	if d := getenv("XDG_RUNTIME_DIR"); strings.HasPrefix(d, "/") {
		return strings.TrimSuffix(d, "/") + "/agentctl/broker.sock"
	}
	return ""
}

// Forwardable says whether argv is a command the broker runs: a tool
// (through a shim or agentctl [global flags] TOOL …) or explain.
func Forwardable(argv []string) bool {
	if _, _, ok := boot.ToolArgs(argv); ok {
		return true
	}
	// agentctl [global flags] explain …: boot.ToolArgs's walk, for explain.
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			return a == "explain"
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "--") && len(name) > 1 {
			name, hasValue = name[:1], true
		}
		takes, known := boot.GlobalFlags[name]
		if !known || a == "--" {
			return false
		}
		if takes && !hasValue {
			i++
		}
	}
	return false
}

// Main forwards this process's command to a running broker and exits
// with its exit code; it returns, having done nothing, when the command
// is not one the broker runs, when this process is a worker or another
// child of agentctl, or when no broker answers at the socket (the
// one-shot path then runs, or refuses if the admin requires a broker).
func Main() {
	if _, ok := os.LookupEnv(WorkerEnv); ok {
		// The client's terminal is this worker's alone: nothing it runs
		// inherits it.
		if fd, err := strconv.Atoi(os.Getenv(TTYEnv)); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
		return
	}
	if boot.IsChild() || !Forwardable(os.Args) {
		return
	}
	sock := Socket(os.Getenv)
	if sock == "" {
		return
	}
	c, err := Dial(sock)
	if err != nil {
		return
	}
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(os.Stderr, "agentctl: %s\n", err)
		os.Exit(ExitWentAway)
	}
	// The controlling terminal, for an approval on it: the worker has
	// none of its own. No terminal (CI, a daemon): none is passed.
	var tty *os.File
	if fd, err := syscall.Open("/dev/tty", syscall.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0); err == nil {
		tty = os.NewFile(uintptr(fd), "/dev/tty")
	}
	code, err := Forward(c, &proto.Request{Argv: os.Args, Cwd: cwd, Env: ClientEnv(os.Environ())},
		[3]*os.File{os.Stdin, os.Stdout, os.Stderr}, tty)
	if err != nil {
		if wantsJSON(os.Args, os.Getenv) {
			PrintJSONError(os.Stderr, err, code)
		} else {
			PrintError(os.Stderr, err)
		}
	}
	os.Exit(code)
}

// Conn is a connection to a broker, on a blocking socket.
type Conn struct {
	fd int
	f  *os.File
}

// Dial connects to the broker at sock.
func Dial(sock string) (*Conn, error) {
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return nil, err
	}
	syscall.CloseOnExec(fd) // not SOCK_CLOEXEC: darwin has none
	if err := syscall.Connect(fd, &syscall.SockaddrUnix{Name: sock}); err != nil {
		syscall.Close(fd)
		return nil, &os.PathError{Op: "connect", Path: sock, Err: err}
	}
	return &Conn{fd: fd, f: os.NewFile(uintptr(fd), sock)}, nil
}

func (c *Conn) Read(p []byte) (int, error)  { return c.f.Read(p) }
func (c *Conn) Write(p []byte) (int, error) { return c.f.Write(p) }
func (c *Conn) Close() error                { return c.f.Close() }

// CloseWrite shuts the sending half down.
func (c *Conn) CloseWrite() error { return syscall.Shutdown(c.fd, syscall.SHUT_WR) }

// SendFDs sends b with the descriptors fds attached (SCM_RIGHTS).
func (c *Conn) SendFDs(b []byte, fds ...int) error {
	n, err := syscall.SendmsgN(c.fd, b, syscall.UnixRights(fds...), nil, 0)
	for err == syscall.EINTR {
		n, err = syscall.SendmsgN(c.fd, b, syscall.UnixRights(fds...), nil, 0)
	}
	if err == nil && n < len(b) {
		_, err = c.Write(b[n:]) // the descriptors rode with the first bytes
	}
	return err
}

// Forward runs req on the broker at the other end of c with stdio as the
// command's standard streams, forwarding this process's signals to it,
// and returns the command's exit code. tty, when not nil, is this
// process's controlling terminal, passed for an approval on it to a
// broker that speaks protocol version 2 (an older one is not given it).
// On an error the code is the one the client exits with: 70, or 77 for
// a broker that refused this user.
func Forward(c *Conn, req *proto.Request, stdio [3]*os.File, tty *os.File) (int, error) {
	defer c.Close()
	if err := proto.Write(c, proto.THello, proto.NewHello("")); err != nil {
		return afterWriteError(c, err)
	}
	var w proto.Welcome
	if err := proto.ReadAs(c, proto.TWelcome, &w); err != nil {
		return failed(err)
	}
	fds := []int{int(stdio[0].Fd()), int(stdio[1].Fd()), int(stdio[2].Fd())}
	if tty != nil && w.Version >= proto.TTYVersion {
		fds = append(fds, int(tty.Fd()))
		req.TTY = true
	}
	req.FDs = len(fds)
	frame, err := proto.Marshal(proto.TRequest, req)
	if err != nil {
		return ExitWentAway, err
	}
	// Catch the signals before the command can start: one that came
	// between would kill the client, and with it the command.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGWINCH)
	defer signal.Stop(sigs)
	err = c.SendFDs(frame, fds...)
	if tty != nil {
		tty.Close() // the broker holds its own copy
	}
	if err != nil {
		return afterWriteError(c, err)
	}
	go func() {
		for s := range sigs {
			if proto.Write(c, proto.TSignal, &proto.Signal{Signal: int(s.(syscall.Signal))}) != nil {
				return
			}
		}
	}()
	var exit proto.Exit
	if err := proto.ReadAs(c, proto.TExit, &exit); err != nil {
		return failed(err)
	}
	return exit.Code, nil
}

// afterWriteError is what a failed write to the broker means: a broker
// that refused this client (another uid) may have said why and closed
// before it read what the client sent, and its error frame then still
// waits in the socket; else the broker went away.
func afterWriteError(c *Conn, err error) (int, error) {
	var pe *proto.Error
	if rerr := proto.ReadAs(c, proto.TExit, &proto.Exit{}); errors.As(rerr, &pe) {
		return pe.ExitCode(), pe
	}
	return ExitWentAway, wentAway(err)
}

func failed(err error) (int, error) {
	var pe *proto.Error
	if errors.As(err, &pe) {
		return pe.ExitCode(), pe
	}
	return ExitWentAway, wentAway(err)
}

// wentAway is ErrWentAway for an ended or broken connection.
func wentAway(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, proto.ErrTruncated) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
		return ErrWentAway
	}
	return fmt.Errorf("%w: %w", ErrWentAway, err)
}

// wantsJSON says whether the command asked for agentctl's JSON output:
// --output json (-o json, -ojson, --output=json) before the tool, or
// AGENTCTL_OUTPUT=json.
func wantsJSON(argv []string, getenv func(string) string) bool {
	out := getenv("AGENTCTL_OUTPUT")
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "-o" || a == "--output":
			if i+1 < len(argv) {
				out = argv[i+1]
			}
			i++
		case strings.HasPrefix(a, "--output="):
			out = a[len("--output="):]
		case strings.HasPrefix(a, "-o") && !strings.HasPrefix(a, "--"):
			out = a[2:]
		case !strings.HasPrefix(a, "-"):
			return out == "json"
		}
	}
	return out == "json"
}

// PrintJSONError writes err as agentctl's --output json errors: one
// object with error, exitCode and hint.
func PrintJSONError(w io.Writer, err error, code int) {
	obj := map[string]any{"error": err.Error(), "exitCode": code}
	var pe *proto.Error
	if errors.As(err, &pe) && pe.Hint != "" {
		obj["hint"] = pe.Hint
	}
	b, _ := json.Marshal(obj)
	fmt.Fprintf(w, "%s\n", b)
}

// PrintError writes err as agentctl writes its errors: one line, and a
// hint line where there is one.
func PrintError(w io.Writer, err error) {
	fmt.Fprintf(w, "agentctl: %s\n", err)
	var pe *proto.Error
	if errors.As(err, &pe) && pe.Hint != "" {
		fmt.Fprintf(w, "hint: %s\n", pe.Hint)
	} else if errors.Is(err, ErrWentAway) {
		fmt.Fprintf(w, "hint: the command may have been killed with it; agentctl audit verify lists what started and never finished\n")
	}
}
