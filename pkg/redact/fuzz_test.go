package redact

import (
	"bytes"
	"strings"
	"testing"
)

const fuzzSecret = "opaque-credential-42"

// FuzzWriter feeds arbitrary output, split at an arbitrary point, through a
// Writer: it must not panic and must never let the exact secret through.
func FuzzWriter(f *testing.F) {
	f.Add("x: "+fuzzSecret+"\n", 3)
	f.Add(mustRead(f, "secret.yaml"), 40)
	f.Add(mustRead(f, "secret.json"), 100)
	f.Add(mustRead(f, "list.yaml"), 7)
	f.Add("k: |\n  "+strings.ReplaceAll(pemKey, "\n", "\n  ")+fuzzSecret+"\n", 20)
	f.Add(`{"data":{"a":"`+fuzzSecret+`"},"kind":"Secret"}`, 12)
	f.Add("Bearer "+jwt+" "+vaultTok+" "+legacyTok+" "+awsID, 9)
	f.Fuzz(func(t *testing.T, in string, split int) {
		var b bytes.Buffer
		w := New(Options{Exact: []string{fuzzSecret}, MaxHold: 256}).Writer(&b)
		if split < 0 || split > len(in) {
			split = len(in) / 2
		}
		_, _ = w.Write([]byte(in[:split]))
		_, _ = w.Write([]byte(in[split:]))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), fuzzSecret) {
			t.Fatalf("secret passed through:\nin:  %q\nout: %q", in, b.String())
		}
	})
}
