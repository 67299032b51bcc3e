// Package redact removes secrets from what reaches the agent: the stdout
// and stderr of the child agentctl runs, agentctl's own messages, and
// explain output.
//
// # What is redacted
//
// Each secret is replaced by a marker naming its [Kind], "[REDACTED:kind]":
//
//   - credential: the exact values agentctl handed out ([Options.Exact]),
//     and their base64 encodings;
//   - secret: values under data and stringData of a Kubernetes Secret in
//     YAML or JSON output, keys kept. kubectl prints data before kind, so
//     the data lines are held back until the object's kind shows; if it
//     never does (the object ends first), they are redacted: fail closed.
//     A ConfigMap's data passes untouched. Single-line JSON (the
//     last-applied-configuration annotation, jq -c) is handled too;
//   - private-key: PEM blocks whose type ends in PRIVATE KEY;
//   - jwt: JSON Web Tokens (ServiceAccount tokens);
//   - bearer: the token after "Bearer ";
//   - aws-key: AKIA/ASIA access key ids, and 40-character secret keys
//     after AWS_SECRET_ACCESS_KEY;
//   - vault-token: hvs./hvb./hvr. tokens and legacy s./b. tokens;
//   - kubeconfig: values of token, client-key-data, id-token and
//     refresh-token keys;
//   - sensitive: values of terraform outputs marked sensitive in JSON.
//
// # Streaming
//
// A [Writer] is line oriented: it passes each line on when its newline
// arrives, so a secret split across Write calls is seen whole, and it
// never buffers the whole output. What it holds back is bounded by
// [Options.MaxHold]: Secret data waiting for its kind (redacted when the
// bound is passed) and an unterminated line (cut at a space when longer).
//
// # Counting
//
// A [Redactor] counts what it replaced, per kind, across all its Writers
// and [Redactor.String] calls; [Redactor.Counts] goes in the audit record.
//
// # Limits
//
// Patterns are found by their shape; a secret printed bare (kubectl get
// secret -o jsonpath, terraform output -raw) is caught only when agentctl
// handed it out itself. The policy classifies such commands as secret.
package redact
