package redact

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	jwt       = "eyJhbGciOiJSUzI1NiIsImtpZCI6IkFCQyJ9.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50In0.c2lnbmF0dXJlLWJ5dGVzLWhlcmU"
	vaultTok  = "hvs.CAESIJ3kq9Zx7mQp2Lr8Tn4Vw6Yb1Hc5Jd0Gf3Ke9Ua"
	legacyTok = "s.Q3xJ8kLm2Np4Rt6Vw9Yz1Ab3"
	awsID     = "AKIAIOSFODNN7EXAMPLE"
	awsSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	pemKey    = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\naFDrBz9vFqU4yQf6m7eG8sL2JQ0Vw2kB3c3s2xg==\n-----END RSA PRIVATE KEY-----\n"
)

func mustRead(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRedacts(t *testing.T) {
	tests := []struct {
		name  string
		exact []string
		in    string
		gone  []string // must not be in the output
		want  []string // must be in the output
		kind  Kind
		count int
	}{
		{name: "secret yaml: data values, keys kept", in: mustRead(t, "secret.yaml"),
			gone: []string{"aHVudGVyMi1zM2NyZXQ=", "YWRtaW4tdXNlcg==", "LS0tLS1CRUdJTi", "QktjCg=="},
			want: []string{"  password: [REDACTED:secret]\n", "  username: [REDACTED:secret]\n", "  tls.key: [REDACTED:secret]\n", "kind: Secret\n", "name: db\n", "f:password: {}"},
			kind: Secret, count: 5},
		{name: "secret json: data values, escaped annotation", in: mustRead(t, "secret.json"),
			gone: []string{"aHVudGVyMi1zM2NyZXQ=", "YWRtaW4tdXNlcg=="},
			want: []string{`        "password": "[REDACTED:secret]",` + "\n", `"username": "[REDACTED:secret]"` + "\n", `\"password\":\"[REDACTED:secret]\"`, `"name": "db",`},
			kind: Secret, count: 4},
		{name: "list: secrets redacted, configmap kept, stringData after kind", in: mustRead(t, "list.yaml"),
			gone: []string{"aHVudGVyMi1zM2NyZXQ=", "plain-text-api-key-value"},
			want: []string{"game.properties: enemies=aliens", "ca.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t", "password: [REDACTED:secret]", "api-key: [REDACTED:secret]", "kind: List"},
			kind: Secret, count: 2},
		{name: "data of an object whose kind never shows is redacted", in: "data:\n  password: aHVudGVy\n---\nkind: ConfigMap\n",
			gone: []string{"aHVudGVy"}, want: []string{"password: [REDACTED:secret]\n---\nkind: ConfigMap\n"}, kind: Secret, count: 1},
		{name: "kind before data", in: "kind: Secret\ndata:\n  a: dmFsdWUtYQ==\nmetadata:\n  name: x\n",
			gone: []string{"dmFsdWUtYQ=="}, want: []string{"  a: [REDACTED:secret]\nmetadata:"}, kind: Secret, count: 1},
		{name: "json list: secret redacted, configmap kept", in: "{\n    \"items\": [\n        {\n            \"data\": {\n                \"a\": \"cGxhaW4tY20=\"\n            },\n            \"kind\": \"ConfigMap\"\n        },\n        {\n            \"data\": {\n                \"b\": \"c2VjcmV0LWI=\"\n            },\n            \"kind\": \"Secret\"\n        }\n    ],\n    \"kind\": \"List\"\n}\n",
			gone: []string{"c2VjcmV0LWI="}, want: []string{`"a": "cGxhaW4tY20="`, `"b": "[REDACTED:secret]"`}, kind: Secret, count: 1},
		{name: "compact json secret (jq -c)", in: `{"apiVersion":"v1","data":{"token":"c2VjcmV0LXZhbHVl"},"kind":"Secret"}` + "\n",
			gone: []string{"c2VjcmV0LXZhbHVl"}, want: []string{`"data":{"token":"[REDACTED:secret]"}`}, kind: Secret, count: 1},
		{name: "pem private key in yaml block", in: "tls.key: |\n  " + strings.ReplaceAll(pemKey, "\n", "\n  ") + "\nnext: line\n",
			gone: []string{"MIIEpAIBAAKCAQEA0Z3VS5JJ", "aFDrBz9vFqU4"}, want: []string{"tls.key: |\n  [REDACTED:private-key]\n", "next: line\n"}, kind: PrivateKey, count: 1},
		{name: "pem private key escaped on one line", in: `{"key":"` + strings.ReplaceAll(pemKey, "\n", `\n`) + `","x":1}` + "\n",
			gone: []string{"MIIEpAIBAAKCAQEA0Z3VS5JJ"}, want: []string{`{"key":"[REDACTED:private-key]\n","x":1}`}, kind: PrivateKey, count: 1},
		{name: "certificate is not a private key", in: "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIRAK\n-----END CERTIFICATE-----\n",
			want: []string{"MIIBszCCAVmgAwIBAgIRAK"}},
		{name: "jwt in text", in: "token is " + jwt + " ok\n", gone: []string{jwt}, want: []string{"token is [REDACTED:jwt] ok\n"}, kind: JWT, count: 1},
		{name: "bearer header", in: "Authorization: Bearer abcdef0123456789xyz\n", gone: []string{"abcdef0123456789xyz"},
			want: []string{"Authorization: Bearer [REDACTED:bearer]\n"}, kind: Bearer, count: 1},
		{name: "kubectl masked bearer kept", in: "Authorization: Bearer <masked>\n", want: []string{"Bearer <masked>"}},
		{name: "aws access key id", in: "aws_access_key_id = " + awsID + "\n", gone: []string{awsID}, want: []string{"= [REDACTED:aws-key]"}, kind: AWSKey, count: 1},
		{name: "aws secret access key in env", in: "AWS_SECRET_ACCESS_KEY=" + awsSecret + "\n", gone: []string{awsSecret}, want: []string{"AWS_SECRET_ACCESS_KEY=[REDACTED:aws-key]"}, kind: AWSKey, count: 1},
		{name: "vault service token", in: `{"auth":{"client_token":"` + vaultTok + `"}}` + "\n", gone: []string{vaultTok}, want: []string{`"client_token":"[REDACTED:vault-token]"`}, kind: VaultToken, count: 1},
		{name: "legacy vault token", in: "VAULT_TOKEN=" + legacyTok + "\n", gone: []string{legacyTok}, want: []string{"VAULT_TOKEN=[REDACTED:vault-token]"}, kind: VaultToken, count: 1},
		{name: "kubeconfig token and client key", in: "users:\n- name: admin\n  user:\n    client-key-data: TFMwdExTMUNSVWRKVGlCU1UwRWdVRkpKVmtGVVJTQkxSVmt0TFMwdExRbz0=\n    token: abc.def-opaque-token\n",
			gone: []string{"TFMwdExTMUNSVWRK", "abc.def-opaque-token"}, want: []string{"    client-key-data: [REDACTED:kubeconfig]\n", "    token: [REDACTED:kubeconfig]\n"}, kind: Kubeconfig, count: 2},
		{name: "kubectl config view masks kept", in: "    client-key-data: DATA+OMITTED\n    token: REDACTED\n", want: []string{"DATA+OMITTED", "token: REDACTED"}},
		{name: "describe secret byte counts kept", in: "Data\n====\nca.crt:     1107 bytes\ntoken:      953 bytes\n", want: []string{"token:      953 bytes"}},
		{name: "terraform output -json sensitive", in: "{\n  \"db_password\": {\n    \"sensitive\": true,\n    \"type\": \"string\",\n    \"value\": \"hunter2-pass\"\n  },\n  \"url\": {\n    \"sensitive\": false,\n    \"type\": \"string\",\n    \"value\": \"https://example.test\"\n  }\n}\n",
			gone: []string{"hunter2-pass"}, want: []string{`"value": "[REDACTED:sensitive]"` + "\n", `"value": "https://example.test"`}, kind: Sensitive, count: 1},
		{name: "terraform sensitive object value", in: "{\n  \"creds\": {\n    \"sensitive\": true,\n    \"type\": [\"object\", {}],\n    \"value\": {\n      \"user\": \"u\",\n      \"pass\": \"hunter2-pass\"\n    }\n  }\n}\n",
			gone: []string{"hunter2-pass"}, want: []string{`"[REDACTED:sensitive]"`}, kind: Sensitive, count: 1},
		{name: "terraform show -json compact", in: `{"outputs":{"pw":{"sensitive":true,"value":"hunter2-pass","type":"string"}}}` + "\n",
			gone: []string{"hunter2-pass"}, want: []string{`"value":"[REDACTED:sensitive]","type"`}, kind: Sensitive, count: 1},
		{name: "exact credential and its base64", exact: []string{"opaque-credential-42"}, in: "a opaque-credential-42 b b3BhcXVlLWNyZWRlbnRpYWwtNDI= c\n",
			gone: []string{"opaque-credential-42", "b3BhcXVlLWNyZWRlbnRpYWwtNDI="}, want: []string{"a [REDACTED:credential] b [REDACTED:credential] c\n"}, kind: Credential, count: 2},
		{name: "unterminated last line", exact: []string{"opaque-credential-42"}, in: "x opaque-credential-42",
			want: []string{"x [REDACTED:credential]"}, kind: Credential, count: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(Options{Exact: tt.exact})
			got := r.String(tt.in)
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
			if tt.kind != "" && r.Counts()[tt.kind] != tt.count {
				t.Errorf("counted %v, want %s=%d", r.Counts(), tt.kind, tt.count)
			}
			if tt.kind == "" && r.Count() != 0 {
				t.Errorf("counted %v on text without secrets:\n%s", r.Counts(), got)
			}
		})
	}
}

func TestNoFalsePositives(t *testing.T) {
	for _, name := range []string{"configmap.yaml", "pods.txt", "describe.txt"} {
		t.Run(name, func(t *testing.T) {
			in := mustRead(t, name)
			r := New(Options{})
			if got := r.String(in); got != in {
				t.Errorf("changed ordinary output:\n%s", got)
			}
			if r.Count() != 0 {
				t.Errorf("counted %v", r.Counts())
			}
		})
	}
}

func TestDisable(t *testing.T) {
	r := New(Options{Disable: []Kind{JWT, Secret}})
	in := jwt + "\n" + mustRead(t, "secret.yaml")
	if got := r.String(in); got != in {
		t.Errorf("disabled kinds were redacted:\n%s", got)
	}
}

// TestSplitWrites writes each input in two pieces, split at every byte
// offset, and expects the same output as one Write.
func TestSplitWrites(t *testing.T) {
	inputs := map[string]string{
		"secret yaml":    mustRead(t, "secret.yaml"),
		"secret json":    mustRead(t, "secret.json"),
		"jwt":            "a " + jwt + " b\n",
		"vault":          "token " + vaultTok + "\n",
		"pem":            "k: |\n  " + strings.ReplaceAll(pemKey, "\n", "\n  ") + "\n",
		"exact":          "x: opaque-credential-42\n",
		"configmap diff": configMapDiff,
		"secret diff":    diffHead("v1.Secret.p.db") + "@@ -1,3 +1,3 @@\n data:\n-  pw: aHVudGVyMi1vbGQ=\n+  pw: aHVudGVyMi1uZXc=\n kind: Secret\n",
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			opts := Options{Exact: []string{"opaque-credential-42"}}
			want := New(opts).String(in)
			for i := 0; i <= len(in); i++ {
				var b bytes.Buffer
				w := New(opts).Writer(&b)
				if _, err := w.Write([]byte(in[:i])); err != nil {
					t.Fatal(err)
				}
				if _, err := w.Write([]byte(in[i:])); err != nil {
					t.Fatal(err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if b.String() != want {
					t.Fatalf("split at %d:\n%s\nwant:\n%s", i, b.String(), want)
				}
			}
		})
	}
}

func TestStreamsLineByLine(t *testing.T) {
	var b bytes.Buffer
	w := New(Options{}).Writer(&b)
	_, _ = w.Write([]byte("first line\nsecond"))
	if b.String() != "first line\n" {
		t.Fatalf("after one line: %q", b.String())
	}
	_, _ = w.Write([]byte(" half\n"))
	if b.String() != "first line\nsecond half\n" {
		t.Fatalf("after two lines: %q", b.String())
	}
}

func TestHoldIsBounded(t *testing.T) {
	var b bytes.Buffer
	w := New(Options{MaxHold: 1024}).Writer(&b)
	_, _ = w.Write([]byte("data:\n"))
	for i := 0; i < 100; i++ {
		_, _ = w.Write([]byte("  key: dmFsdWUtdmFsdWUtdmFsdWU=\n"))
	}
	if b.Len() == 0 {
		t.Fatal("held more than MaxHold")
	}
	if strings.Contains(b.String(), "dmFsdWUt") {
		t.Fatalf("released unknown data unredacted:\n%s", b.String())
	}
	long := strings.Repeat("word ", 1000)
	_, _ = w.Write([]byte(long))
	if b.Len() < 1024 {
		t.Fatal("held an over-long line whole")
	}
}
