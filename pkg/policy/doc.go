// Package policy decides what agentctl does with a classified command:
// allow, sandbox, approve or deny, naming the rule that decided.
//
// # Policy files
//
// A policy is YAML (docs/policy.md has the full reference):
//
//	version: 1
//	environments:
//	  - name: prod
//	    servers: [{url: "https://prod.example.com:6443", caSHA256: "3f7a…"}]
//	  - {name: prod, context: ["*prod*"]} # a name: only tightens
//	  - {name: dev, namespace: "dev-*"}
//	limits:
//	  mutations: {max: 60, window: 1h}
//	  lockout: {denials: 5, window: 10m}
//	rules:
//	  - name: dev-is-open
//	    env: dev
//	    class: [write, destructive]
//	    when: resources.all(r, r.kind != "Namespace")
//	    decision: allow
//	    message: dev namespaces are open to agents
//
// [Parse] reads one file strictly: unknown fields, bad values and CEL
// conditions that do not compile are a *[LoadError] listing every problem
// as file:line:col, and agentctl exits 78 ([ExitConfig]) without running
// anything.
//
// # Environments
//
// An environment entry binds a name to targets. Context, cluster,
// workspace and dir are names the agent writes, so an entry that matches
// on them alone ([Environment.NameOnly]) names the environment only where
// that makes the decision stricter; [Engine.Env] is the first bound entry
// (servers: the API server's canonical URL and CA fingerprint, or
// namespaces), else "unknown". [New] refuses a trusted rule that would
// loosen on such names.
//
// # Layers
//
// [Load] stacks, least specific first: the default policy embedded from
// policies/default.yaml, the admin file /etc/agentctl/policy.yaml, the
// user's $XDG_CONFIG_HOME/agentctl/policy.yaml, the project's
// .agentctl/policy.yaml ([FindProject]), and --policy files in the order
// given. [Engine.Decide] tries the layers from the most specific down and
// the first matching rule decides; within a layer the first matching rule
// wins.
//
// A layer the agent could have written is tighten-only: the project file
// always, and a user or --policy file that is not [Trusted] (owned by
// root, writable by nobody else), since agentctl runs as the agent's OS
// user. Its rules count only when stricter than what the other layers
// decided, its limits only when stricter, its environments name targets
// for its own rules only, and it may not say allowPrivilege. The admin
// file must be trusted.
//
// # Guarantees
//
// Whatever the layers say, a privilege or unknown command is never allowed
// or sandboxed unless the deciding rule carries allowPrivilege: true (a
// loud flag: every load prints a warning), and approving one needs a typed
// confirmation. A condition that fails at run time denies in its rule's
// name. A locked-out agent gets deny for everything but reads.
//
// # Lockout and rate limit
//
// [Engine.Observe] is told how each command ended. Denials within the
// lockout window lock the agent (by --agent identity) until `agentctl
// unlock` ([State.Unlock]); commands other than reads that ran count
// against the mutation limit. The state is one JSON file under
// $XDG_STATE_HOME/agentctl, read and written under flock by every
// agentctl process ([State]).
package policy
