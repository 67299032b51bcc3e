package kubectl

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	kcmd "k8s.io/kubectl/pkg/cmd"
)

// tree is kubectl's own command tree, built once and reused: finding a
// subcommand and parsing its flags is done by the very cobra commands and
// pflag sets that kubectl executes with. Flags changed by one parse are
// reset before the next; callers hold the classifier's mutex.
type tree struct {
	root *cobra.Command
}

func newTree() *tree {
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}
	// Arguments is nil so that no kuberc file is read while building the
	// tree; the executor must run kubectl with KUBECTL_KUBERC=false for the
	// same reason (aliases and flag defaults from a kuberc file would change
	// what an argv means).
	root := kcmd.NewKubectlCommand(kcmd.KubectlOptions{IOStreams: streams})
	addLogFlags(root.PersistentFlags())
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		c.InitDefaultHelpFlag()
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	root.InitDefaultHelpCmd()
	walk(root)
	return &tree{root: root}
}

// addLogFlags declares the klog flags that the kubectl binary adds through
// component-base (-v, --vmodule, --log-flush-frequency). They are declared
// with private storage: parsing "-v=9" here must not change this process's
// logging.
func addLogFlags(fs *pflag.FlagSet) {
	var lvl levelValue
	fs.VarP(&lvl, "v", "v", "number for the log level verbosity")
	fs.String("vmodule", "", "comma-separated list of pattern=N settings for file-filtered logging")
	fs.Duration("log-flush-frequency", 5*time.Second, "maximum number of seconds between log flushes")
}

// levelValue parses like klog.Level: a base-10 int32.
type levelValue int32

func (l *levelValue) String() string { return strconv.Itoa(int(*l)) }
func (l *levelValue) Type() string   { return "Level" }
func (l *levelValue) Set(s string) error {
	v, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return err
	}
	*l = levelValue(v)
	return nil
}

// parsed is the outcome of finding and parsing one argv.
type parsed struct {
	cmd  *cobra.Command
	path string   // "rollout restart", "" for the root
	args []string // positional arguments after flag parsing
	rest []string // the arguments after the subcommand path, as Find left them
	// dash is the index in args where "--" was seen, or -1.
	dash int
	// notFound is cobra's error for an argv that names no command (a
	// plugin dispatch), as kubectl would print it when no plugin matches.
	notFound error
	// flags holds the string form of every flag that was set, by name;
	// repeated and slice flags keep every value in order.
	flags map[string][]string
}

func (p *parsed) has(name string) bool { _, ok := p.flags[name]; return ok }

// str returns the last value of a flag, or "" when it was not set.
func (p *parsed) str(name string) string {
	v := p.flags[name]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// parse finds the subcommand with cobra's Find, exactly as kubectl does, and
// parses the flags with that command's merged flag set. A plugin dispatch
// (no such command) returns a nil cmd and no error.
func (t *tree) parse(argv []string) (*parsed, error) {
	cmd, rest, err := t.root.Find(argv)
	if err != nil {
		return &parsed{notFound: err}, nil //nolint:nilerr // unknown command: plugin dispatch
	}
	defer resetFlags(cmd)
	if err := cmd.ParseFlags(rest); err != nil {
		return nil, err
	}
	args := cmd.Flags().Args()
	if err := cmd.ValidateArgs(args); err != nil {
		return nil, err
	}
	// pflag does not reset its "--" position between parses.
	dash := -1
	for _, a := range rest {
		if a == "--" {
			dash = cmd.ArgsLenAtDash()
			break
		}
	}
	p := &parsed{cmd: cmd, args: args, rest: rest, dash: dash, flags: map[string][]string{}}
	p.path = strings.TrimPrefix(strings.TrimPrefix(cmd.CommandPath(), t.root.Name()), " ")
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Changed {
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			p.flags[f.Name] = append([]string(nil), sv.GetSlice()...)
			return
		}
		p.flags[f.Name] = []string{f.Value.String()}
	})
	return p, nil
}

// resetFlags restores every flag the last parse changed to its default.
func resetFlags(cmd *cobra.Command) {
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Changed {
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			_ = sv.Replace(defaultSlice(f.DefValue))
		} else {
			_ = f.Value.Set(f.DefValue)
		}
		f.Changed = false
	})
}

func defaultSlice(def string) []string {
	def = strings.TrimSuffix(strings.TrimPrefix(def, "["), "]")
	if def == "" {
		return nil
	}
	return strings.Split(def, ",")
}

// subcommandError wraps a parse failure for a reason message.
func subcommandError(err error) string {
	return fmt.Sprintf("kubectl would reject this command: %v", err)
}
