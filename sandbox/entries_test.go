package sandbox

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/tools/clientcmd"
)

// testEntries run inside the sandbox, standing in for embedded kubectl.
var testEntries = map[string]func(args []string) int{
	"attempt": attemptEntry,
	"true":    func([]string) int { return 0 },
	"exit":    func(args []string) int { n, _ := strconv.Atoi(args[0]); return n },
	"env": func([]string) int {
		for _, kv := range os.Environ() {
			fmt.Println(kv)
		}
		return 0
	},
	// stat prints "PATH: exists" or "PATH: ERROR" for each path of
	// args (Landlock does not govern stat: what is missing is absent).
	"stat": func(args []string) int {
		for _, p := range args {
			if _, err := os.Lstat(p); err != nil {
				fmt.Printf("%s: %v\n", p, err)
			} else {
				fmt.Printf("%s: exists\n", p)
			}
		}
		return 0
	},
	"cat": func([]string) int { // stdin to stdout
		if _, err := io.Copy(os.Stdout, os.Stdin); err != nil {
			return 1
		}
		return 0
	},
}

// attemptEntry does the allowed read first — GET /version from the
// cluster of the kubeconfig in args[0], with client-go as kubectl would —
// then the escape attempt args[1] with args[2:]. It prints "allowed: ..."
// and then "blocked: <error>" or "escaped: <what it got>".
func attemptEntry(args []string) int {
	cfg, err := clientcmd.BuildConfigFromFlags("", args[0])
	if err == nil {
		var dc *discovery.DiscoveryClient
		if dc, err = discovery.NewDiscoveryClientForConfig(cfg); err == nil {
			var v fmt.Stringer
			if v, err = dc.ServerVersion(); err == nil {
				fmt.Printf("allowed: %s\n", v)
			}
		}
	}
	if err != nil {
		fmt.Printf("allowed: FAILED %v\n", err)
	}
	attempt, ok := attempts[args[1]]
	if !ok {
		fmt.Printf("unknown attempt %q\n", args[1])
		return 2
	}
	got, err := attempt(args[2:])
	if err != nil {
		fmt.Printf("blocked: %v\n", err)
	} else {
		fmt.Printf("escaped: %s\n", got)
	}
	return 0
}

var attempts = map[string]func(args []string) (string, error){
	"none": func([]string) (string, error) { return "", errors.New("nothing attempted") },
	"read": func(a []string) (string, error) {
		b, err := os.ReadFile(a[0])
		return string(b), err
	},
	"write": func(a []string) (string, error) {
		return "wrote " + a[0], os.WriteFile(a[0], []byte("pwned"), 0o644)
	},
	// link plants a symlink or hard link to a[1] at a[0], then reads it.
	"symlink": func(a []string) (string, error) {
		if err := os.Symlink(a[1], a[0]); err != nil {
			return "", err
		}
		b, err := os.ReadFile(a[0])
		return string(b), err
	},
	"hardlink": func(a []string) (string, error) {
		if err := os.Link(a[1], a[0]); err != nil {
			return "", err
		}
		b, err := os.ReadFile(a[0])
		return string(b), err
	},
	"tcp":  func(a []string) (string, error) { return roundTrip("tcp", a[0]) },
	"unix": func(a []string) (string, error) { return roundTrip("unix", a[0]) },
	"udp": func(a []string) (string, error) {
		c, err := net.Dial("udp", a[0])
		if err != nil {
			return "", err
		}
		defer c.Close()
		for range 3 {
			if _, err := c.Write([]byte("EXFIL")); err != nil {
				return "", err
			}
		}
		return "sent 3 datagrams (the listener outside must not see them)", nil
	},
	// dns asks the resolver at a[1] (or the system's, if empty) for a[0].
	"dns": func(a []string) (string, error) {
		r := net.DefaultResolver
		if a[1] != "" {
			r = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "udp", a[1])
			}}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		addrs, err := r.LookupHost(ctx, a[0])
		return fmt.Sprint(addrs), err
	},
	// proxy asks the sandbox's own CONNECT proxy for a[0].
	"proxy": func(a []string) (string, error) {
		pu, err := url.Parse(os.Getenv("HTTPS_PROXY"))
		if err != nil || pu.Host == "" {
			return "", fmt.Errorf("no proxy in the environment: %q", os.Getenv("HTTPS_PROXY"))
		}
		c, err := net.DialTimeout("tcp", pu.Host, 3*time.Second)
		if err != nil {
			return "", err
		}
		defer c.Close()
		fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", a[0], a[0])
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return "", err
		}
		if resp.StatusCode != 200 {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			return "", fmt.Errorf("proxy answered %s: %s", resp.Status, body)
		}
		fmt.Fprintln(c, "EXFIL")
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		reply, err := br.ReadString('\n')
		return "tunnel open, reply " + reply, err
	},
	"ptrace": func(a []string) (string, error) {
		ppid := parent(a)
		if err := unix.PtraceAttach(ppid); err != nil {
			return "", fmt.Errorf("ptrace attach %d: %w", ppid, err)
		}
		unix.PtraceDetach(ppid)
		return fmt.Sprintf("attached to %d", ppid), nil
	},
	// proc reads /proc/<parent>/<a[0]>.
	"proc": func(a []string) (string, error) {
		p := filepath.Join("/proc", strconv.Itoa(parent(a[1:])), a[0])
		f, err := os.Open(p)
		if err != nil {
			return "", err
		}
		defer f.Close()
		buf := make([]byte, 256)
		n, err := f.Read(buf)
		return fmt.Sprintf("%d bytes of %s", n, p), err
	},
	"signal": func(a []string) (string, error) {
		ppid := parent(a)
		if err := unix.Kill(ppid, 0); err != nil {
			return "", fmt.Errorf("kill(%d, 0): %w", ppid, err)
		}
		return fmt.Sprintf("may signal %d", ppid), nil
	},
}

// parent is the pid of agentctl (the test process) as given in a[0]: in
// its own PID namespace the child's getppid() is 0, and agentctl's pid
// names no process there.
func parent(a []string) int {
	if len(a) > 0 {
		if pid, err := strconv.Atoi(a[0]); err == nil {
			return pid
		}
	}
	return os.Getppid()
}

func roundTrip(network, addr string) (string, error) {
	c, err := net.DialTimeout(network, addr, 3*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := fmt.Fprintln(c, "EXFIL"); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return "reply " + line, err
}
