// Package sandbox runs a read-only command (embedded kubectl, terraform
// plan) in a child that cannot reach the user's credentials or the
// network beyond what the command needs.
//
// # How it works
//
// [Run] re-executes the current binary (/proc/self/exe) in a new user and
// network namespace. The child, recognised by [MaybeChild] which main
// calls first thing, reads its configuration from an inherited pipe,
// brings up loopback, starts the egress forwarders, applies a Landlock
// ruleset and then runs an in-process entry (kubectl) or execs Argv
// (terraform) as its own child, staying behind as supervisor. [Prestart]
// starts the child before its config is known, so that starting the binary
// overlaps with agentctl's own work; [Child.Run] then hands it the config.
//
// # Filesystem
//
// Readable: [SystemReadOnly] and [Config.ReadOnly]. Writable:
// [SystemReadWrite], [Config.ReadWrite] and the scratch dir. Nothing else:
// not /proc (so not /proc/<agentctl>/environ or mem), not /tmp, not the
// home dir. Landlock rules name inodes, so a symlink planted in scratch
// that points at ~/.aws/credentials leads to a denial. [Config.Deny]
// lists what must stay unreachable; [Plan] refuses a grant that equals or
// contains a denied path.
//
// The child is also in its own mount namespace, and replaces its root with
// one that holds only the granted paths: an empty read-only tmpfs with
// each grant bind-mounted at its own path (read-only unless writable),
// entered with pivot_root, after which the child drops every capability.
// What is not granted does not exist inside, so no pathname Unix socket
// outside the grants (tmux's, an SSH agent's, D-Bus, agentctl's inbox in
// $XDG_RUNTIME_DIR) can be connected to on any kernel, even with
// [Config.AllowUnixSockets]. [Plan] refuses grants that equal or contain
// [SharedDirs] (/tmp, /dev, …) and any in, on or above [RuntimeDirs]
// (/run).
//
// # Processes
//
// The child dies with agentctl (a parent-death signal) and, where the
// kernel allows, is init of its own PID namespace: when it dies, the
// kernel kills everything left in it, such as terraform's provider
// plugins. Processes outside have no pid inside. Not in cgo builds (the
// test binaries), where go-landlock's libpsx needs the real pids.
//
// # Network
//
// The namespace has only loopback. agentctl runs an egress broker outside
// that dials only [Config.Destinations] and hands the connected socket to
// the child. Loopback destinations (the test cluster on 127.0.0.1:6443)
// are served by a listener on the same address inside, so clients work
// unchanged; others by a CONNECT proxy on 127.0.0.1 advertised in
// HTTPS_PROXY/HTTP_PROXY. No resolver is reachable: names are resolved by
// the broker. With Landlock ABI 4 the command may connect and bind only
// to the forwarders' ports. Below Landlock ABI 9, which controls pathname
// Unix sockets, a seccomp filter refuses creating Unix sockets unless
// [Config.AllowUnixSockets] (terraform's provider plugins need them).
//
// # Degradation
//
// [Probe] reports what the kernel can enforce. With [Config.Required] a
// missing user or network namespace or a missing Landlock makes [Run]
// fail with a [*NotEnforceableError] before the command runs; otherwise
// the command runs with what is available and [Enforcement] says what
// was not enforced. Hardening that newer Landlock ABIs add (TCP rules,
// scoping, pathname Unix sockets) is reported in [Enforcement.Weaker].
//
// # Environment
//
// [Config.Env] is the command's complete environment, with TMPDIR set to
// the scratch dir, HOME too unless Env sets it, and the proxy variables
// when a proxy runs.
//
// # Tests
//
// A binary that uses the sandbox calls [MaybeChild] first thing in main;
// a test binary does so in TestMain. The design, the escape suite and the
// figures are in docs/sandbox.md.
package sandbox
