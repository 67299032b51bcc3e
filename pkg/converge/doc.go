// Package converge compares what an approved change meant to set with
// what is really there, right after the change and later.
//
// # Intent
//
// An [Intent] names one object (group, version, kind, namespace, name)
// and the fields the change set on it: for `kubectl apply` or `create`,
// every field of the manifest; for `scale`, `set image`, `label`,
// `annotate` and `patch`, the fields those set; for `rollout restart`,
// none (the object must only become Current). A delete's intent is the
// object's identity only: it converges when the object and everything
// that names it in an ownerReference is gone.
//
// Fields are leaves of the manifest, addressed by a [Path]. Lists of
// objects that all carry a "name" (containers, ports, env) are matched by
// name, other lists of objects by index, lists of scalars as a whole;
// elements others added to a list (an injected sidecar) are not looked at. Only
// what the intent set is compared: fields the API server or a controller
// defaulted are ignored. Quantities compare by value ("0.5" equals
// "500m"), numbers by value whatever their JSON type.
//
// # Status
//
// [Judge] computes an object's status with kstatus
// (sigs.k8s.io/cli-utils/pkg/kstatus/status) for the kinds kstatus has
// rules for (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob,
// Pod, PVC, Service, PodDisruptionBudget, ConfigMap, Secret, CRD) and for
// objects that carry kstatus's standard conditions (Ready, Reconciling,
// Stalled). Anything else — a custom resource without those conditions,
// an object without a status such as a ServiceAccount — is [Unknown],
// never [Converged]: nothing says it is healthy.
//
// A workload's pods are judged too: a pod kstatus reports Failed (not
// schedulable after kstatus's 15 s window, crash looping) fails the
// workload, with the pod condition's reason and message (the scheduler's
// "0/3 nodes are available: 3 Insufficient cpu.").
//
// # Results
//
// [Check] turns an intent, the live object and its pods into a [Result]:
// [Converged], [Progressing], [Failed] (with the reason), [Diverged] (with
// each [Diff]: field, wanted, got), [Unknown] or, for an object that should
// exist and does not, [Gone]. [Waiter] polls a [Source] until every result
// is final or its timeout passes; the caller decides what is audited.
package converge
