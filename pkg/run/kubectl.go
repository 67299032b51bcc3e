package run

import (
	"os"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/component-base/cli"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"

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
// Two upstream behaviours are switched off, because they would run
// something other than what was assessed: plugins (the plugin handler is
// nil, so an unknown verb is an error, never an exec) and kuberc
// preferences (aliases and default flags from a file the agent may write).
func KubectlMain(args []string) int {
	// kuberc may alias a read to a write; what was classified must be
	// what runs.
	os.Setenv("KUBECTL_KUBERC", "false")
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	argv := append([]string{"kubectl"}, args...)
	cmd := kubectlcmd.NewDefaultKubectlCommandWithArgs(kubectlcmd.KubectlOptions{
		PluginHandler: nil, // plugins are never executed
		Arguments:     argv,
		ConfigFlags: genericclioptions.NewConfigFlags(true).
			WithDeprecatedPasswordFlag().
			WithDiscoveryBurst(300).
			WithDiscoveryQPS(50.0).
			WithWarningPrinter(streams),
		IOStreams: streams,
	})
	cmd.SetArgs(args)
	if err := cli.RunNoErrOutput(cmd); err != nil {
		cmdutil.CheckErr(err) // prints as kubectl does and exits
		return 1
	}
	return 0
}
