package kubectl

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/request"
)

// Options configure a [Classifier].
type Options struct {
	// Discovery enables live discovery against the effective target for
	// types the built-in table does not know; nil means offline only.
	// Use [LiveDiscovery].
	Discovery DiscoveryFunc
	// Timeout bounds discovery (default 2s).
	Timeout time.Duration
	// MaxStdin caps what is read from the agent's stdin for "-f -"
	// (default 64 MiB); a larger stream is refused.
	MaxStdin int64
}

// Classifier classifies kubectl commands. Build it once per process with
// [New]; it is safe for concurrent use (calls are serialized).
type Classifier struct {
	opts    Options
	mu      sync.Mutex   // serializes Classify: the tree's flag values are shared
	tree    func() *tree // built at the first Classify: agentctl builds every tool's classifier, and runs one
	catalog *catalog
	targets targetResolver
}

// New returns a classifier; kubectl's command tree is built when it first
// classifies.
func New(opts Options) *Classifier {
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.MaxStdin <= 0 {
		opts.MaxStdin = 64 << 20
	}
	return &Classifier{opts: opts, tree: sync.OnceValue(newTree), catalog: newCatalog()}
}

// ErrManifest matches (errors.Is) every error about manifest inputs the
// user must fix: an unreadable -f file, stdin over the size cap.
var ErrManifest = errors.New("manifest")

// ManifestError is a manifest input the user must fix.
type ManifestError struct {
	Msg  string
	hint string
}

func (e *ManifestError) Error() string        { return e.Msg }
func (e *ManifestError) Hint() string         { return e.hint }
func (e *ManifestError) Is(target error) bool { return target == ErrManifest }

// Classify assesses one kubectl command. It returns an error only for I/O
// problems the user must fix; anything it cannot understand is an
// assessment of class unknown with a reason.
func (c *Classifier) Classify(ctx context.Context, req *request.Request) (*classify.Assessment, error) {
	a := &classify.Assessment{
		Tool:      "kubectl",
		Class:     classify.Read,
		Resources: []classify.Resource{},
		Reasons:   []classify.Reason{},
		Discovery: "offline",
	}
	a.Exec = classify.Invocation{
		Args: append([]string{}, req.Args...),
		Dir:  req.Cwd,
		// A kuberc file could alias verbs and default flags, changing
		// what the assessed argv means.
		Env: []string{"KUBECTL_KUBERC=false"},
	}
	// One classification at a time: the command tree's flag sets are
	// shared, and later steps still read the found command's flags.
	c.mu.Lock()
	defer c.mu.Unlock()
	p, err := c.tree().parse(req.Args)
	if err != nil {
		a.Subcommand = firstWord(req.Args)
		a.Raise(classify.Unknown, "%s", subcommandError(err))
		return a, nil
	}
	s := &state{c: c, ctx: ctx, req: req, p: p, a: a}
	if err := s.run(); err != nil {
		return nil, err
	}
	return a, nil
}

// firstWord is the first argument that is not a flag.
func firstWord(args []string) string {
	for _, a := range args {
		if a == "--" {
			break
		}
		if len(a) > 0 && a[0] != '-' {
			return a
		}
	}
	return ""
}
