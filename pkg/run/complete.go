package run

import (
	"bytes"
	"io"
	"strconv"
	"strings"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
)

// KubectlComplete asks the embedded kubectl's own completion for
// candidates: args are the words after "kubectl", toComplete the word
// being completed. It returns the candidates and cobra's directive. Plugins
// and kuberc stay off, as when running commands.
func KubectlComplete(args []string, toComplete string) ([]string, int) {
	var out bytes.Buffer
	streams := genericiooptions.IOStreams{In: bytes.NewReader(nil), Out: &out, ErrOut: io.Discard}
	full := append(append([]string{"__complete"}, args...), toComplete)
	cmd := kubectlcmd.NewDefaultKubectlCommandWithArgs(kubectlcmd.KubectlOptions{
		Arguments:   append([]string{"kubectl"}, full...),
		ConfigFlags: genericclioptions.NewConfigFlags(true),
		IOStreams:   streams,
	})
	cmd.SetArgs(full)
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard)
	if err := cmd.Execute(); err != nil {
		return nil, 0
	}
	return parseCompletion(out.String())
}

// parseCompletion reads cobra's __complete output: one candidate a line,
// then ":<directive>".
func parseCompletion(s string) ([]string, int) {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) == 0 {
		return nil, 0
	}
	last := lines[len(lines)-1]
	directive := 0
	if strings.HasPrefix(last, ":") {
		directive, _ = strconv.Atoi(last[1:])
		lines = lines[:len(lines)-1]
	}
	var out []string
	for _, l := range lines {
		if l != "" && !strings.HasPrefix(l, "Completion ended with directive") {
			out = append(out, l)
		}
	}
	return out, directive
}
