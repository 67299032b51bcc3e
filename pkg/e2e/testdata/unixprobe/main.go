// Command unixprobe tries to talk to each Unix socket named in its
// arguments, as a hostile credential plugin or provider would (tmux,
// ssh-agent, D-Bus, agentctl's inbox). It writes one line per socket to
// the file named by its first argument ("-": standard error): "reached
// PATH" or "blocked PATH: ERROR". The e2e tests build it and run it inside
// and outside the sandbox.
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

func main() {
	var out io.Writer = os.Stderr
	if os.Args[1] != "-" {
		f, err := os.OpenFile(os.Args[1], os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, "unixprobe:", err)
			os.Exit(1)
		}
		defer f.Close()
		out = f
	}
	for _, p := range os.Args[2:] {
		if err := talk(p); err != nil {
			fmt.Fprintf(out, "blocked %s: %v\n", p, err)
		} else {
			fmt.Fprintf(out, "reached %s\n", p)
		}
	}
}

func talk(path string) error {
	c, err := net.DialTimeout("unix", path, 3*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := fmt.Fprintln(c, "PROBE"); err != nil {
		return err
	}
	_, err = bufio.NewReader(c).ReadString('\n')
	return err
}
