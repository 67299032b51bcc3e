package redact

import (
	"strings"
	"testing"
)

func TestFlushPartialShowsAPromptAndStillRedacts(t *testing.T) {
	var out strings.Builder
	r := New(Options{Exact: []string{"s3cr3t-value-123456"}})
	w := r.Writer(&out)
	w.Write([]byte("root@pod:/# "))
	if out.Len() != 0 {
		t.Fatalf("without a flush the partial line is held, got %q", out.String())
	}
	if err := w.FlushPartial(); err != nil {
		t.Fatal(err)
	}
	if out.String() != "root@pod:/# " {
		t.Errorf("after FlushPartial: %q, want the prompt", out.String())
	}
	w.Write([]byte("echo s3cr3t-value-123456"))
	w.FlushPartial()
	w.Close()
	if strings.Contains(out.String(), "s3cr3t-value-123456") || !strings.Contains(out.String(), "[REDACTED:") {
		t.Errorf("a secret in one flushed piece leaked: %q", out.String())
	}
}
