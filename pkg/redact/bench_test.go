package redact

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// kubectlYAML returns about n bytes of kubectl get -o yaml output: Pods,
// ConfigMaps and, one object in twenty, a Secret.
func kubectlYAML(n int) []byte {
	var b bytes.Buffer
	b.WriteString("apiVersion: v1\nitems:\n")
	for i := 0; b.Len() < n; i++ {
		switch {
		case i%20 == 0:
			fmt.Fprintf(&b, "- apiVersion: v1\n  data:\n    password: aHVudGVyMi1zM2NyZXQ=\n    username: YWRtaW4tdXNlcg==\n  kind: Secret\n  metadata:\n    name: db-%d\n    namespace: default\n  type: Opaque\n", i)
		case i%5 == 0:
			fmt.Fprintf(&b, "- apiVersion: v1\n  data:\n    app.properties: |\n      color=blue\n      size=%d\n  kind: ConfigMap\n  metadata:\n    name: app-%d\n    namespace: default\n", i, i)
		default:
			fmt.Fprintf(&b, `- apiVersion: v1
  kind: Pod
  metadata:
    creationTimestamp: "2025-01-02T03:04:05Z"
    generateName: web-7d4b9c8f6-
    labels:
      app.kubernetes.io/name: web
      pod-template-hash: 7d4b9c8f6
    name: web-7d4b9c8f6-%05d
    namespace: default
    ownerReferences:
    - apiVersion: apps/v1
      blockOwnerDeletion: true
      controller: true
      kind: ReplicaSet
      name: web-7d4b9c8f6
      uid: 0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b
    resourceVersion: "%d"
    uid: 6a0c6f0e-6f8f-4a55-9f0a-0d1e2f3a4b5c
  spec:
    containers:
    - env:
      - name: LOG_LEVEL
        value: info
      image: nginx:1.25.3
      imagePullPolicy: IfNotPresent
      name: web
      ports:
      - containerPort: 80
        protocol: TCP
      resources: {}
      volumeMounts:
      - mountPath: /var/run/secrets/kubernetes.io/serviceaccount
        name: kube-api-access-abcde
        readOnly: true
    serviceAccountName: default
  status:
    phase: Running
    podIP: 10.244.0.%d
`, i, 1000+i, i%250)
		}
	}
	b.WriteString("kind: List\nmetadata:\n  resourceVersion: \"\"\n")
	return b.Bytes()
}

// BenchmarkWriterYAML measures throughput on 100 MB of kubectl YAML output,
// written in 32 KiB reads as from a pipe.
func BenchmarkWriterYAML(b *testing.B) {
	in := kubectlYAML(100 << 20)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := New(Options{Exact: []string{"opaque-credential-42"}}).Writer(io.Discard)
		for p := in; len(p) > 0; {
			n := min(len(p), 32<<10)
			_, _ = w.Write(p[:n])
			p = p[n:]
		}
		_ = w.Close()
	}
}

// BenchmarkWriterLine measures the time one line takes from Write to the
// underlying writer (the latency redaction adds per line).
func BenchmarkWriterLine(b *testing.B) {
	line := []byte("    name: web-7d4b9c8f6-00042 image: nginx:1.25.3 podIP: 10.244.0.42\n")
	w := New(Options{Exact: []string{"opaque-credential-42"}}).Writer(io.Discard)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		_, _ = w.Write(line)
	}
}
