package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/restmapper"
	"k8s.io/component-base/cli"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/exitcode"
	_ "github.com/agentctl/agentctl/pkg/run/internal/translations" // before kubectl's inits
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
)

// KubectlEntry is the name of the in-process kubectl entry point of a child
// agentctl process (see [EntryEnv] and the sandbox's entries).
const KubectlEntry = "kubectl"

// KubectlMain runs the embedded kubectl with args (the arguments after
// "kubectl") on the process's standard streams, exactly as upstream
// kubectl's main does, and returns its exit code. It is only ever called in
// a child process that agentctl started for an assessed command: kubectl's
// error path exits the process itself, with kubectl's own exit code.
//
// Three upstream behaviours are switched off, because they would run
// something other than what was assessed: plugins (the plugin handler is
// nil, so an unknown verb is an error, never an exec), kuberc preferences
// (aliases and default flags from a file the agent may write), and the
// discovery cache on disk (what a resource type name means comes from the
// API server, never from ~/.kube/cache, --cache-dir or $KUBECACHEDIR).
//
// Before kubectl sends anything, the resource types and manifest kinds the
// classifier resolved ([ResolvedEnv]) are resolved again with kubectl's
// own mapper; when they differ, nothing runs and the exit code is 78.
func KubectlMain(args []string) int {
	// kuberc may alias a read to a write; what was classified must be
	// what runs.
	os.Setenv("KUBECTL_KUBERC", "false")
	want, err := readResolved()
	if err != nil {
		fmt.Fprintf(os.Stderr, "agentctl: %v\n", err)
		return exitcode.Internal
	}
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	argv := append([]string{"kubectl"}, args...)
	flags := genericclioptions.NewConfigFlags(true).
		WithDeprecatedPasswordFlag().
		WithDiscoveryBurst(300).
		WithDiscoveryQPS(50.0).
		WithWarningPrinter(streams)
	dc := newLiveDiscovery(flags, 300, 50.0)
	if err := useDiscovery(flags, dc); err != nil {
		fmt.Fprintf(os.Stderr, "agentctl: %v\n", err)
		return exitcode.Internal
	}
	cmd := kubectlcmd.NewDefaultKubectlCommandWithArgs(kubectlcmd.KubectlOptions{
		PluginHandler: nil, // plugins are never executed
		Arguments:     argv,
		ConfigFlags:   flags,
		IOStreams:     streams,
	})
	checkBeforeRun(cmd, func() error {
		if len(want) == 0 {
			return nil
		}
		mapper, err := flags.ToRESTMapper()
		if err != nil {
			return err
		}
		return checkResolved(mapper, restmapper.NewDiscoveryCategoryExpander(dc), want)
	})
	cmd.SetArgs(args)
	if err := cli.RunNoErrOutput(cmd); err != nil {
		var re *ResolutionError
		if errors.As(err, &re) {
			fmt.Fprintf(os.Stderr, "agentctl: %v\nhint: %s\n", re, re.Hint())
			return exitcode.Config
		}
		cmdutil.CheckErr(err) // prints as kubectl does and exits
		return 1
	}
	return 0
}

// checkBeforeRun runs check after kubectl has parsed its flags and before
// the command runs: in the root's persistent pre-run, the only one in
// kubectl's tree.
func checkBeforeRun(root *cobra.Command, check func() error) {
	pre := root.PersistentPreRunE
	root.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		if pre != nil {
			if err := pre(c, args); err != nil {
				return err
			}
		}
		return check()
	}
}

// readResolved reads and clears [ResolvedEnv].
func readResolved() ([]classify.Resolution, error) {
	v, ok := os.LookupEnv(ResolvedEnv)
	os.Unsetenv(ResolvedEnv)
	if !ok || v == "" {
		return nil, nil
	}
	var want []classify.Resolution
	if err := json.Unmarshal([]byte(v), &want); err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", ResolvedEnv, err)
	}
	return want, nil
}
