// Package kubectl classifies kubectl commands into the risk classes of
// [classify.Class], exactly as kubectl would understand them.
//
// # Parsing
//
// A [Classifier] holds kubectl's own command tree (k8s.io/kubectl/pkg/cmd),
// built once by [New]. The subcommand is found with cobra's Find, as kubectl
// finds it, so flags before the verb (-n prod --context=x delete …) and
// every flag form pflag accepts (--flag=value, -nprod, -n=prod, shorthand
// clusters, the "_" to "-" normalization) mean what they mean to kubectl.
// The klog flags of the kubectl binary (-v, --vmodule, --log-flush-frequency)
// are declared with private storage. Flags set by one parse are reset
// before the next, under a mutex. Anything kubectl would reject (unknown
// flag, bad value, bad --dry-run) is [classify.Unknown]; a verb kubectl does
// not know, or an unknown create subcommand, is a plugin dispatch and
// [classify.Exec].
//
// Shell syntax ([classify.ShellSyntax]: |, ;, &&, redirections, $NAME,
// ${…}, $(…), backticks, a leading ~) in an argument is [classify.Unknown]:
// argv comes unparsed by a shell, so such an argument means the agent wrote
// a pipeline or a variable kubectl would take literally. The rule skips the
// container command after "--" of exec, run, debug and create
// job/cronjob/deployment, which the container interprets, a go-template's
// own $variables and a strategic merge patch's $directives. kubectl with
// no command (help only) and commands kubectl no longer has are refused.
//
// # Resources
//
// Resource arguments (TYPE NAME, TYPE/NAME, TYPE1,TYPE2, name.group,
// name.version.group, categories such as all, which never includes
// secrets) are resolved against a table of the built-in types of
// Kubernetes 1.34 with kubectl's short names. Types the table does not
// know are resolved through [Options.Discovery] when it is set
// ([LiveDiscovery]: the API server's own discovery, cached in memory only,
// with a bounded timeout), and are [classify.Unknown] otherwise. Discovery
// is only asked when the table fails, and its failure never fails a
// classification. No discovery cache on disk is ever read: the agent can
// write one.
//
// What each type argument and manifest kind was resolved to is recorded in
// [classify.Invocation.Resolved]; the embedded kubectl resolves them again
// from the server's discovery before it sends anything and refuses to run
// when the answers differ (a CRD whose category or plural shadows a
// built-in name, say).
//
// # Manifests
//
// -f FILE, -f DIR (with -R, and only .json/.yaml/.yml inside directories),
// globs, -f - (stdin, read once, capped by [Options.MaxStdin]) and -k DIR
// (rendered in-process with kustomize, as kubectl does; remote bases, helm
// charts and plugins refused) are decoded with kubectl's decoder; List kinds
// are flattened; remote URLs are refused. The invocation that runs
// ([classify.Invocation]) replaces all of them with one "-f -" fed the exact
// bytes that were assessed: a YAML stream starting with "---", one indented
// JSON document per object. For --raw, the body is passed on as it is.
//
// # Classes
//
// The highest class of all findings wins. docs/classification.md has the
// table of what is what; each finding is a [classify.Reason].
//
// # Execution
//
// The invocation carries KUBECTL_KUBERC=false in its environment: a kuberc
// file could alias verbs or default flags and change what the assessed argv
// means.
package kubectl
