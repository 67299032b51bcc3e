package sandbox

import (
	"fmt"
	"net"
	"os"
	"time"
)

// testEntries run inside the sandbox. Each prints what it got and exits 0
// on success, 1 when the attempt failed (the error on stderr).
var testEntries = map[string]func(args []string) int{
	"read": func(args []string) int {
		b, err := os.ReadFile(args[0])
		if err != nil {
			return fail(err)
		}
		os.Stdout.Write(b)
		return 0
	},
	"write": func(args []string) int {
		if err := os.WriteFile(args[0], []byte(args[1]), 0o600); err != nil {
			return fail(err)
		}
		return 0
	},
	"dial": func(args []string) int {
		c, err := net.DialTimeout(args[0], args[1], 3*time.Second)
		if err != nil {
			return fail(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		fmt.Fprintln(c, "hello")
		buf := make([]byte, 64)
		n, err := c.Read(buf)
		if err != nil {
			return fail(err)
		}
		os.Stdout.Write(buf[:n])
		return 0
	},
	"env": func(args []string) int {
		for _, kv := range os.Environ() {
			fmt.Println(kv)
		}
		return 0
	},
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, err)
	return 1
}
