package audit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/testenv"
)

func newTestExporter(t *testing.T, log string, col *testenv.Collector, protocol string) *Exporter {
	t.Helper()
	addr := col.GRPC
	if protocol == "http" {
		addr = col.HTTP
	}
	e, err := NewExporter(log, OTLPConfig{Endpoint: addr, Protocol: protocol, Insecure: true,
		Cursor: filepath.Join(filepath.Dir(log), "otlp.cursor")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func flush(t *testing.T, e *Exporter) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, pending, err := e.Flush(ctx)
	if err != nil || pending != 0 {
		t.Fatalf("flush: sent %d, %d pending, %v", n, pending, err)
	}
	return n
}

// A decision and its result arrive at the real collector, over gRPC and
// over HTTP, with the attributes docs/audit.md names and the exact line
// as the body.
func TestOTLPExportArrivesWithAttributes(t *testing.T) {
	for _, protocol := range []string{"grpc", "http"} {
		t.Run(protocol, func(t *testing.T) {
			col := testenv.NewCollector(t)
			col.Start(t)
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			l, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			cls := classify.Destructive
			d := &Record{Kind: KindDecision, Time: time.Now(), ID: "req-1", User: "alice", Agent: "claude", Intent: "clean up",
				Tool: "kubectl", Args: []string{"delete", "pod", "web", "--token=s3cret"}, Class: &cls, Decision: "deny", Rule: "no-deletes",
				Target: &classify.Target{Context: "prod", Namespace: "shop", Server: "https://u:p@k8s:6443"}}
			r := NewResult(d, time.Now())
			r.SetExit(77)
			if err := l.AppendAll([]*Record{d, r}); err != nil {
				t.Fatal(err)
			}
			if n := flush(t, newTestExporter(t, path, col, protocol)); n != 2 {
				t.Fatalf("sent %d records, want 2", n)
			}
			logs := col.WaitLogs(t, 2)
			lines := fileLines(t, path)
			got := logs[0].Attrs
			want := map[string]string{
				AttrKind: "decision", AttrSeq: "1", AttrPrev: Genesis, AttrHash: hashLine(lines[0]), AttrID: "req-1",
				AttrAgent: "claude", AttrIntent: "clean up", AttrTool: "kubectl", AttrClass: "destructive",
				AttrDecision: "deny", AttrRule: "no-deletes", AttrTargetPfx + "context": "prod", AttrTargetPfx + "namespace": "shop",
				AttrTargetPfx + "server": "https://u:***@k8s:6443", AttrCommand: "kubectl delete pod web '--token=***'", AttrUser: "alice",
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("decision attribute %s = %q, want %q", k, got[k], v)
				}
			}
			if logs[0].Body != string(lines[0]) || logs[0].SeverityText != "WARN" || logs[0].EventName != "agentctl.audit.decision" {
				t.Errorf("decision log: body %q severity %q event %q", logs[0].Body, logs[0].SeverityText, logs[0].EventName)
			}
			res := logs[1].Attrs
			if res[AttrExitCode] != "77" || res[AttrPrev] != hashLine(lines[0]) || res[AttrHash] != hashLine(lines[1]) || res[AttrKind] != "result" {
				t.Errorf("result attributes: %v", res)
			}
			if logs[1].Resource["service.name"] != "agentctl" {
				t.Errorf("resource: %v", logs[1].Resource)
			}
		})
	}
}

// The collector is down while 1,000 short-lived processes append a
// record each and try to flush (a fresh Log and Exporter every time, as
// each agentctl invocation has): none fails, nothing is lost; once the
// collector is back, one flush sends all 1,000, in order, each chaining
// from the one before.
func TestOTLPExportSurvivesACollectorThatIsDown(t *testing.T) {
	col := testenv.NewCollector(t)
	col.Start(t)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	appendOne := func(i int) (sent, pending int, err error) {
		l, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if err := l.Append(testRecord("a"+strconv.Itoa(i), i)); err != nil {
			t.Fatal(err)
		}
		e := newTestExporter(t, path, col, "grpc")
		defer e.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
		defer cancel()
		return e.Flush(ctx)
	}
	if sent, _, err := appendOne(0); err != nil || sent != 1 {
		t.Fatalf("with the collector up: sent %d: %v", sent, err)
	}
	col.Stop()
	var slowest time.Duration
	for i := 1; i <= 1000; i++ {
		start := time.Now()
		sent, pending, err := appendOne(i)
		slowest = max(slowest, time.Since(start))
		if err == nil || sent != 0 || pending != i {
			t.Fatalf("record %d with the collector down: sent %d, %d pending, error %v", i, sent, pending, err)
		}
	}
	t.Logf("slowest append+flush with the collector down: %s", slowest)
	if logs := col.Logs(t); len(logs) != 1 {
		t.Fatalf("the collector has %d records while it was down, want 1", len(logs))
	}
	col.Start(t)
	e := newTestExporter(t, path, col, "grpc")
	if n := flush(t, e); n != 1000 {
		t.Fatalf("sent %d after the collector came back, want 1000", n)
	}
	logs := col.WaitLogs(t, 1001)
	if len(logs) != 1001 {
		t.Fatalf("the collector has %d records, want 1001", len(logs))
	}
	prev := Genesis
	for i, lr := range logs {
		if lr.Attrs[AttrSeq] != strconv.Itoa(i+1) || lr.Attrs[AttrPrev] != prev || lr.Attrs[AttrAgent] != "a"+strconv.Itoa(i) {
			t.Fatalf("record %d: seq %s prev %s agent %s, want seq %d prev %s", i, lr.Attrs[AttrSeq], lr.Attrs[AttrPrev], lr.Attrs[AttrAgent], i+1, prev)
		}
		prev = lr.Attrs[AttrHash]
	}
	if rep := verifyFile(t, path); !rep.OK() || rep.Records != 1001 {
		t.Fatalf("local chain: %+v", rep)
	}
	if n := flush(t, e); n != 0 {
		t.Fatalf("a second flush sent %d records again", n)
	}
}

// A collector that refuses a batch (an error answer, not a dead socket)
// gets it again on the next flush: the cursor moves only on success.
func TestOTLPExportResendsARefusedBatch(t *testing.T) {
	col := testenv.NewCollector(t)
	col.Fail = 1
	col.Start(t)
	path := writeLog(t, 3)
	e := newTestExporter(t, path, col, "http")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if sent, pending, err := e.Flush(ctx); err == nil || sent != 0 || pending != 3 {
		t.Fatalf("refused flush: sent %d, %d pending, %v", sent, pending, err)
	}
	if n := flush(t, e); n != 3 {
		t.Fatalf("sent %d, want 3", n)
	}
	logs := col.WaitLogs(t, 3)
	for i, lr := range logs {
		if lr.Attrs[AttrSeq] != fmt.Sprint(i+1) {
			t.Fatalf("record %d has seq %s", i, lr.Attrs[AttrSeq])
		}
	}
}

// A log that was replaced (rotated) is exported from its beginning, not
// from the old file's offset.
func TestOTLPExportFollowsARotatedLog(t *testing.T) {
	col := testenv.NewCollector(t)
	col.Start(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := l.Append(testRecord("old", i)); err != nil {
			t.Fatal(err)
		}
	}
	e := newTestExporter(t, path, col, "grpc")
	flush(t, e)
	l.Close()
	renameOrFail(t, path, path+".1")
	l, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 7 {
		if err := l.Append(testRecord("new", i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := flush(t, e); n != 7 {
		t.Fatalf("sent %d records of the new file, want 7", n)
	}
	logs := col.WaitLogs(t, 12)
	if logs[5].Attrs[AttrAgent] != "new" || logs[5].Attrs[AttrPrev] != Genesis {
		t.Fatalf("first record of the new file: %v", logs[5].Attrs)
	}
}

// A configuration that cannot work is refused before anything is sent.
func TestOTLPConfigErrors(t *testing.T) {
	cur := filepath.Join(t.TempDir(), "c")
	for _, tc := range []struct {
		name string
		cfg  OTLPConfig
		want string
	}{
		{"no port", OTLPConfig{Endpoint: "collector", Cursor: cur}, `otlp endpoint "collector": want host:port`},
		{"insecure off loopback", OTLPConfig{Endpoint: "siem.example:4317", Insecure: true, Cursor: cur}, `otlp endpoint "siem.example:4317": insecure (plain text) is allowed only to a loopback address`},
		{"bad protocol", OTLPConfig{Endpoint: "127.0.0.1:4317", Protocol: "udp", Cursor: cur}, `otlp protocol "udp": want grpc or http`},
		{"bad CA", OTLPConfig{Endpoint: "127.0.0.1:4317", CA: []byte("nope"), Cursor: cur}, `otlp CA: no PEM certificate in it`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewExporter("/x", tc.cfg)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func fileLines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
}

func renameOrFail(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

// Over TLS, records arrive when the collector's certificate chains to
// the configured CA, and are refused (and wait) when it does not.
func TestOTLPExportOverTLS(t *testing.T) {
	for _, protocol := range []string{"grpc", "http"} {
		t.Run(protocol, func(t *testing.T) {
			col := testenv.NewCollector(t)
			ca := col.ServeTLS(t)
			col.Start(t)
			path := writeLog(t, 2)
			addr := col.GRPC
			if protocol == "http" {
				addr = col.HTTP
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			other := testenv.NewCollector(t).ServeTLS(t) // another CA
			wrong, err := NewExporter(path, OTLPConfig{Endpoint: addr, Protocol: protocol, CA: other, Cursor: path + ".cursor"})
			if err != nil {
				t.Fatal(err)
			}
			defer wrong.Close()
			if sent, pending, err := wrong.Flush(ctx); err == nil || sent != 0 || pending != 2 {
				t.Fatalf("with another CA: sent %d, %d pending, %v", sent, pending, err)
			}
			right, err := NewExporter(path, OTLPConfig{Endpoint: addr, Protocol: protocol, CA: ca, Cursor: path + ".cursor"})
			if err != nil {
				t.Fatal(err)
			}
			defer right.Close()
			if n := flush(t, right); n != 2 {
				t.Fatalf("sent %d, want 2", n)
			}
			col.WaitLogs(t, 2)
		})
	}
}
