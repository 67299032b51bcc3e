// Package credentials is agentctl's credentials broker: it gives each
// child the credential of the identity its command deserves, just in time,
// and takes it back afterwards.
//
// # Identities
//
// The configuration ($XDG_CONFIG_HOME/agentctl/config.yaml, see [Load] and
// docs/credentials.md) lists targets (a kubeconfig context, cluster or
// server; a terraform directory and workspace; by glob) and, for each, a
// read identity (sandboxed reads) and a deploy identity (approved
// changes). An identity is one of:
//
//   - kubeconfig: a context of a kubeconfig file agentctl reads;
//   - kubernetes-token: a token for a named ServiceAccount, minted with
//     the TokenRequest API by a broker identity that may do nothing else;
//   - vault-kubernetes: a role of Vault's Kubernetes secrets engine (a
//     ServiceAccount token under a Vault lease);
//   - env: environment variables for terraform whose values come from Vault
//     paths (KV v2, AWS, GCP, ...) or from a command.
//
// # Handing out
//
// [Broker.Acquire] returns a [Credential]: a temporary kubeconfig (file
// 0600 in a directory 0700) and the environment entries for the child.
// [Credential.Release] revokes Vault leases and removes the files; call it
// in a defer and on interrupt. [Credential.Secrets] feeds the redactor;
// [Credential.Audit] is what the audit record may say (never a token).
//
// Vault is reached with the address and login of the configuration only:
// the agent's VAULT_* variables and proxies are ignored.
//
// # The child's environment
//
// [ChildEnv] builds it from an allowlist ([BaseEnv] plus configured
// names); [Config.CheckTargetFlags] refuses agent-given --kubeconfig,
// --context, --server, --cluster that no target names, and credential
// flags (--token, ...) always, as a [*FlagError].
//
// # Bootstrap
//
// [KubernetesRBAC] prints least-privilege RBAC for the read, deploy and
// broker identities.
package credentials
