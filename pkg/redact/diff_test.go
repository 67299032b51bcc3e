package redact

import (
	"bytes"
	"strings"
	"testing"
)

// diffHead is the header kubectl diff's `diff -u -N` writes for one object.
func diffHead(name string) string {
	return "diff -u -N /tmp/LIVE-1/" + name + " /tmp/MERGED-2/" + name + "\n" +
		"--- /tmp/LIVE-1/" + name + "\t2026-12-03 12:05:27.207405474 +0000\n" +
		"+++ /tmp/MERGED-2/" + name + "\t2026-12-03 12:05:27.211405473 +0000\n"
}

// configMapDiff is kubectl diff of a ConfigMap whose second key, a value
// kubectl wraps over three lines, changed.
var configMapDiff = diffHead("v1.ConfigMap.prod.app-config") + `@@ -1,9 +1,9 @@
 apiVersion: v1
 data:
   mode: prod
-  notes: 'a long line of configuration text a long line of configuration text a long
+  notes: a long line of configuration text a long line of configuration text a long
     line of configuration text a long line of configuration text a long line of configuration
-    text a long line of configuration text '
+    text a long line of configuration text x
 kind: ConfigMap
 metadata:
   creationTimestamp: "2026-12-03T12:05:26Z"
`

func TestDiffRedaction(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		same  bool     // the output is the input
		gone  []string // must not be in the output
		want  []string // must be in the output
		count int      // Secret values redacted
	}{
		{name: "configmap: changed wrapped value after the first key", in: configMapDiff, same: true},
		{name: "configmap: hunk starts inside data", same: true,
			in: diffHead("v1.ConfigMap.prod.app-config") + "@@ -5,3 +5,3 @@\n   b: two\n-  c: three\n+  c: four\n"},
		{name: "configmap in a group-less file name with dots", same: true,
			in: diffHead("v1.ConfigMap.prod.app.config.v2") + "@@ -1,3 +1,3 @@\n data:\n-  mode: dev\n+  mode: prod\n"},
		{name: "deployment: group in the name", same: true,
			in: diffHead("apps.v1.Deployment.prod.web") + "@@ -1,3 +1,3 @@\n spec:\n-  replicas: 1\n+  replicas: 2\n"},
		{name: "secret masked by kubectl: kept as kubectl shows it", same: true,
			in: diffHead("v1.Secret.prod.db") + "@@ -1,6 +1,6 @@\n apiVersion: v1\n data:\n-  password: '*** (before)'\n+  password: '*** (after)'\n   user: '***'\n kind: Secret\n"},
		{name: "secret unmasked: values redacted on both sides",
			in:    diffHead("v1.Secret.prod.db") + "@@ -1,6 +1,6 @@\n apiVersion: v1\n data:\n-  password: aHVudGVyMi1vbGQ=\n+  password: aHVudGVyMi1uZXc=\n   user: Ym9i\n kind: Secret\n",
			gone:  []string{"aHVudGVyMi1vbGQ=", "aHVudGVyMi1uZXc=", "Ym9i"},
			want:  []string{"-  password: [REDACTED:secret]\n+  password: [REDACTED:secret]\n   user: [REDACTED:secret]\n kind: Secret\n"},
			count: 3},
		{name: "secret unmasked: hunk starts inside data, kind out of context",
			in:    diffHead("v1.Secret.prod.db") + "@@ -7,3 +7,3 @@\n   b: Ym9i\n-  c: aHVudGVyMi1vbGQ=\n+  c: aHVudGVyMi1uZXc=\n",
			gone:  []string{"Ym9i", "aHVudGVyMi1vbGQ=", "aHVudGVyMi1uZXc="},
			want:  []string{"-  [REDACTED:secret]\n+  [REDACTED:secret]\n"},
			count: 3},
		{name: "secret unmasked: a removed top-level key does not end the added data",
			in:    diffHead("v1.Secret.prod.db") + "@@ -1,5 +1,4 @@\n data:\n   a: YQ==\n-  b: Yg==\n-immutable: true\n+  c: aHVudGVyMi1uZXc=\n kind: Secret\n",
			gone:  []string{"YQ==", "Yg==", "aHVudGVyMi1uZXc="},
			want:  []string{"-immutable: true\n+  c: [REDACTED:secret]\n"},
			count: 3},
		{name: "secret unmasked: multi-line stringData value",
			in:    diffHead("v1.Secret.prod.db") + "@@ -1,4 +1,4 @@\n stringData:\n   db.conf: |\n     user: admin\n-    password: hunter2-old\n+    password: hunter2-new\n",
			gone:  []string{"admin", "hunter2-old", "hunter2-new", "password"},
			want:  []string{"   db.conf: [REDACTED:secret]\n     [REDACTED:secret]\n-    [REDACTED:secret]\n"},
			count: 4},
		{name: "secret: last-applied-configuration annotation",
			in:    diffHead("v1.Secret.prod.db") + "@@ -1,3 +1,3 @@\n metadata:\n   annotations:\n-    kubectl.kubernetes.io/last-applied-configuration: |\n+    {\"apiVersion\":\"v1\",\"data\":{\"password\":\"aHVudGVyMi1uZXc=\"},\"kind\":\"Secret\"}\n",
			gone:  []string{"aHVudGVyMi1uZXc="},
			count: 1},
		{name: "file name without a kind: fail closed",
			in:    diffHead("something-else") + "@@ -1,3 +1,3 @@\n data:\n-  mode: dev\n+  mode: prod\n",
			gone:  []string{"dev", "prod"},
			want:  []string{"-  mode: [REDACTED:secret]\n+  mode: [REDACTED:secret]\n"},
			count: 2},
		{name: "names that disagree: fail closed",
			in:    "diff -u -N /tmp/L/v1.ConfigMap.p.x /tmp/M/v1.Secret.p.x\n--- /tmp/L/v1.ConfigMap.p.x\t2026\n+++ /tmp/M/v1.Secret.p.x\t2026\n@@ -1,2 +1,2 @@\n data:\n-  a: aHVudGVyMi1vbGQ=\n+  a: aHVudGVyMi1uZXc=\n",
			gone:  []string{"aHVudGVyMi1vbGQ=", "aHVudGVyMi1uZXc="},
			count: 2},
		{name: "a secret after a configmap in one diff",
			in:    configMapDiff + diffHead("v1.Secret.prod.db") + "@@ -1,3 +1,3 @@\n data:\n-  password: aHVudGVyMi1vbGQ=\n+  password: aHVudGVyMi1uZXc=\n",
			gone:  []string{"aHVudGVyMi1vbGQ=", "aHVudGVyMi1uZXc="},
			want:  []string{configMapDiff, "-  password: [REDACTED:secret]\n"},
			count: 2},
		{name: "secret yaml after a diff is redacted as ever",
			in:    configMapDiff + "kind: Secret\ndata:\n  a: aHVudGVyMi1uZXc=\n",
			gone:  []string{"aHVudGVyMi1uZXc="},
			count: 1},
		{name: "a line starting with diff that is no diff", same: true,
			in: "diff between a and b: none\nkind: ConfigMap\ndata:\n  a: b\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(Options{})
			got := r.String(tt.in)
			if tt.same && got != tt.in {
				t.Errorf("changed the diff:\n%s\nwant:\n%s", got, tt.in)
			}
			for _, g := range tt.gone {
				if strings.Contains(got, g) {
					t.Errorf("output still holds %q:\n%s", g, got)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
			if n := r.Counts()[Secret]; n != tt.count {
				t.Errorf("counted %d secret values, want %d:\n%s", n, tt.count, got)
			}
		})
	}
}

func TestKindFromName(t *testing.T) {
	tests := map[string]string{
		"/tmp/LIVE-1/v1.ConfigMap.prod.app":                      "ConfigMap",
		"v1.Secret.prod.db":                                      "Secret",
		"apps.v1.Deployment.prod.web.v2":                         "Deployment",
		"rbac.authorization.k8s.io.v1.ClusterRoleBinding..admin": "ClusterRoleBinding",
		"v1.Namespace..prod":                                     "Namespace",
		"example.com.v1alpha1.Widget.ns.a.b.c":                   "Widget",
		"v1.ConfigMap":                                           "",
		"evil.example.com.v1.secret.ns.name":                     "",
		"notes.txt":                                              "",
	}
	for name, want := range tests {
		got, ok := kindFromName(name)
		if got != want || ok != (want != "") {
			t.Errorf("kindFromName(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
}

// TestOverLongValues streams output whose line is longer than MaxHold in
// 32 KiB writes: a Secret's value, or one whose kind is not known yet, is
// redacted whole (it was passed on raw in pieces), anything else passes as
// it is, and a diff goes on being followed after it.
func TestOverLongValues(t *testing.T) {
	big := strings.Repeat("QUJD", 300000) // 1.2 MB on one line
	secretDiff := diffHead("v1.Secret.p.db") + "@@ -1,2 +1,2 @@\n data:\n-  pw: aHVudGVyMi1vbGQ=\n+  pw: aHVudGVyMi1uZXc=\n"
	tests := []struct {
		name, in string
		gone     []string
		want     []string
	}{
		{name: "secret yaml", in: "apiVersion: v1\ndata:\n  big: " + big + "\n  small: c2Vjcgo=\nkind: Secret\n",
			gone: []string{"QUJDQUJD", "c2Vjcgo="}, want: []string{"  big: [REDACTED:secret]\n  small: [REDACTED:secret]\nkind: Secret\n"}},
		{name: "secret diff", in: diffHead("v1.Secret.p.x") + "@@ -1,3 +1,3 @@\n data:\n-  big: " + big + "\n+  big: " + big + "x\n" + secretDiff,
			gone: []string{"QUJDQUJD", "aHVudGVyMi1vbGQ=", "aHVudGVyMi1uZXc="}, want: []string{"-  big: [REDACTED:secret]\n+  big: [REDACTED:secret]\n", "+  pw: [REDACTED:secret]\n"}},
		{name: "configmap yaml: the kind shows only after MaxHold, fail closed", in: "apiVersion: v1\ndata:\n  big: " + big + "\nkind: ConfigMap\n",
			gone: []string{"QUJDQUJD"}, want: []string{"  big: [REDACTED:secret]\nkind: ConfigMap\n"}},
		{name: "configmap yaml, kind first", in: "apiVersion: v1\nkind: ConfigMap\ndata:\n  big: " + big + "\n  b: c\n",
			want: []string{"  big: " + big + "\n  b: c\n"}},
		{name: "configmap diff, then a secret's", in: diffHead("v1.ConfigMap.p.x") + "@@ -1,3 +1,3 @@\n data:\n-  big: " + big + "\n+  big: " + big + "x\n" + secretDiff,
			gone: []string{"aHVudGVyMi1vbGQ=", "aHVudGVyMi1uZXc="}, want: []string{"-  big: " + big + "\n+  big: " + big + "x\n", "+  pw: [REDACTED:secret]\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			w := New(Options{}).Writer(&b)
			for i := 0; i < len(tt.in); i += 32 << 10 {
				w.Write([]byte(tt.in[i:min(len(tt.in), i+32<<10)]))
			}
			w.Close()
			got := b.String()
			for _, g := range tt.gone {
				if strings.Contains(got, g) {
					t.Errorf("output still holds %q:\n%.400s", g, got)
				}
			}
			for _, s := range tt.want {
				if !strings.Contains(got, s) {
					t.Errorf("output lacks %.80q:\n%.400s", s, got)
				}
			}
		})
	}
}
