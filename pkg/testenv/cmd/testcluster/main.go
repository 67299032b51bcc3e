// Command testcluster starts agentctl's local test cluster (a real etcd and
// kube-apiserver on 127.0.0.1), writes an admin kubeconfig and runs until
// interrupted. `make demo` uses it; tests use package testenv directly.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/agentctl/agentctl/pkg/testenv"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "where to write the admin kubeconfig")
	context := flag.String("context", "demo", "the kubeconfig context name")
	flag.Parse()
	if *kubeconfig == "" {
		fmt.Fprintln(os.Stderr, "testcluster: -kubeconfig is required")
		os.Exit(2)
	}
	c, err := testenv.StartStandalone()
	if err != nil {
		fmt.Fprintf(os.Stderr, "testcluster: %v\nhint: run make testbin\n", err)
		os.Exit(1)
	}
	defer c.Stop()
	if err := c.WriteKubeconfig(*kubeconfig, "admin", *context); err != nil {
		fmt.Fprintf(os.Stderr, "testcluster: %v\n", err)
		return
	}
	fmt.Printf("testcluster: ready at %s\n", c.Server())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}
