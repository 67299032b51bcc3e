package tui

import (
	"reflect"
	"strings"
	"testing"
)

func TestCleanDiff(t *testing.T) {
	for _, tc := range []struct {
		name, diff, want string
		hidden           []string
	}{
		{"the server's metadata fields go, the object is named",
			"diff -u -N /tmp/LIVE-1/v1.ConfigMap.web.app /tmp/MERGED-2/v1.ConfigMap.web.app\n--- /tmp/LIVE-1/v1.ConfigMap.web.app\t2025\n+++ /tmp/MERGED-2/v1.ConfigMap.web.app\t2025\n@@ -1,9 +1,9 @@\n apiVersion: v1\n data:\n-  mode: dev\n+  mode: prod\n kind: ConfigMap\n metadata:\n   creationTimestamp: \"2025-02-27T09:14:02Z\"\n   name: app\n-  resourceVersion: \"10\"\n+  resourceVersion: \"11\"\n   uid: 6c1e2f4a-9b7d-4e3c-8a1f-2d5b6c7e8f90\n",
			"=== ConfigMap web/app (v1)\n@@ -1,9 +1,9 @@\n apiVersion: v1\n data:\n-  mode: dev\n+  mode: prod\n kind: ConfigMap\n metadata:\n   name: app",
			[]string{"creationTimestamp", "resourceVersion", "uid"}},
		{"a data key named like a metadata field stays",
			"@@ -1,5 +1,5 @@\n apiVersion: v1\n data:\n-  uid: a\n+  uid: b\n-  generation: \"7\"\n+  generation: \"8\"\n kind: ConfigMap\n",
			"@@ -1,5 +1,5 @@\n apiVersion: v1\n data:\n-  uid: a\n+  uid: b\n-  generation: \"7\"\n+  generation: \"8\"\n kind: ConfigMap",
			nil},
		{"a hunk that only changed hidden fields goes; managedFields go whole",
			"@@ -3,12 +3,12 @@\n metadata:\n-  generation: 1\n+  generation: 2\n   managedFields:\n   - apiVersion: v1\n     fieldsType: FieldsV1\n   name: x\n",
			"",
			[]string{"generation", "managedFields"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, hidden := cleanDiff(tc.diff)
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			if !reflect.DeepEqual(hidden, tc.hidden) {
				t.Errorf("hidden %q, want %q", hidden, tc.hidden)
			}
		})
	}
}

func TestWrapDiffMarksContinuations(t *testing.T) {
	got := wrapDiff([]string{"+" + strings.Repeat("x", 25)}, 12, func(s string) string { return s })
	want := []string{"+xxxxxxxx", "+↪ xxxxxxxxx", "+↪ xxxxxxxx"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
