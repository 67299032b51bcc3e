package e2e_test

import (
	"fmt"
	"os"

	"github.com/agentctl/agentctl/pkg/broker/client"
	"github.com/agentctl/agentctl/pkg/broker/proto"
)

// rawClientEnv makes the test binary a raw client of the broker at its
// value: it sends its own arguments as the request's argv, whatever they
// are, as a hostile agent's own client would (agentctl's client forwards
// only the wrapped tools and explain).
const rawClientEnv = "AGENTCTL_E2E_RAWCLIENT"

func rawClientMain(sock string) int {
	c, err := client.Dial(sock)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rawclient:", err)
		return 70
	}
	cwd, _ := os.Getwd()
	code, err := client.Forward(c, &proto.Request{Argv: os.Args[1:], Cwd: cwd, Env: client.ClientEnv(os.Environ())},
		[3]*os.File{os.Stdin, os.Stdout, os.Stderr}, nil)
	if err != nil {
		client.PrintError(os.Stderr, err)
	}
	return code
}
