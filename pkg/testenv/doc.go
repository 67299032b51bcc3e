// Package testenv runs the real Kubernetes control plane that agentctl's
// end-to-end tests talk to: one etcd and one kube-apiserver on 127.0.0.1,
// started once per test binary, plus the upstream kubectl binary for
// comparisons.
//
// # Binaries
//
// The binaries are built from source by testdata/tools/build-cluster.sh
// (`make testbin`) into a cache outside the repository:
//
//	$AGENTCTL_TESTBIN/k8s-v1.34.4/kube-apiserver
//	$AGENTCTL_TESTBIN/k8s-v1.34.4/kubectl
//	$AGENTCTL_TESTBIN/etcd-v3.6.4/etcd
//
// AGENTCTL_TESTBIN defaults to $HOME/.cache/agentctl/testbin. [Bin] finds
// one of them. When a binary is missing, a test is skipped, unless CI is set
// or AGENTCTL_E2E=1, in which case it fails: CI must never pass by skipping.
//
// # The shared cluster
//
// [Start] returns the cluster of the test binary, starting it on first use.
// A package that uses it stops it with a TestMain:
//
//	func TestMain(m *testing.M) { testenv.RunMain(m) }
//
// The processes also die with the test binary (parent-death signal), so a
// panic or a timeout leaks nothing. [NewCluster] starts a private cluster
// that a test may stop (to see what happens offline).
//
// The cluster has no controller-manager, scheduler or kubelet: namespaces
// get no default service account, pods are never scheduled, deleted
// namespaces stay Terminating. Admission plugins that need those
// controllers (ServiceAccount) are disabled, so pods can be created.
//
// # Users
//
// Authentication is by static bearer tokens, generated per cluster:
//
//   - [UserAdmin] is in system:masters and may do anything.
//   - [UserReader], [UserDeployer] and [UserBroker] may do nothing until a
//     test binds them a role (authorization is RBAC only).
//
// [Cluster.Kubeconfig] writes a kubeconfig for one user;
// [Cluster.KubeconfigContexts] writes one with several contexts.
// Service-account tokens (TokenRequest) work: the signing key is generated
// at start.
//
// # Fixtures
//
// [Cluster.NewNamespace] creates a namespace for one test and deletes it
// afterwards; [Cluster.Apply] server-side applies a YAML manifest (one or
// more documents, any kind including custom resources) as admin.
package testenv
