package testenv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Collector is the OpenTelemetry Collector's OTLP receiver built from
// testdata/otelcol ($AGENTCTL_TESTBIN/otelcol-<hash of its sources>/otelcol): it
// listens on GRPC and HTTP (127.0.0.1) and appends every batch of logs it
// acknowledged to Out. Stop and Start again keep the addresses and the
// file.
type Collector struct {
	GRPC, HTTP string
	Out        string
	// CertFile and KeyFile make it serve TLS (set before Start).
	CertFile, KeyFile string
	// Fail makes the next start refuse its first Fail batches.
	Fail int
	// Header, when set before Start, names a request header whose value
	// the collector records as the resource attribute
	// "otelcol.header.NAME" (lower case) of the logs of each batch.
	Header string

	bin string
	dir string
	cmd *exec.Cmd
}

// NewCollector returns a collector that is not started yet, skipping or
// failing t as [Bin] does when the binary is missing. It is stopped when
// the test ends.
func NewCollector(t testing.TB) *Collector {
	t.Helper()
	c := &Collector{bin: Bin(t, "otelcol"), dir: t.TempDir()}
	ports, err := freePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	c.GRPC, c.HTTP = "127.0.0.1:"+strconv.Itoa(ports[0]), "127.0.0.1:"+strconv.Itoa(ports[1])
	c.Out = filepath.Join(c.dir, "logs.jsonl")
	t.Cleanup(c.Stop)
	return c
}

// Start starts the collector and returns once it listens.
func (c *Collector) Start(t testing.TB) {
	t.Helper()
	args := []string{"-grpc", c.GRPC, "-http", c.HTTP, "-out", c.Out, "-fail", strconv.Itoa(c.Fail)}
	if c.CertFile != "" {
		args = append(args, "-tls-cert", c.CertFile, "-tls-key", c.KeyFile)
	}
	if c.Header != "" {
		args = append(args, "-header", c.Header)
	}
	cmd := exec.Command(c.bin, args...)
	errLog, err := os.OpenFile(filepath.Join(c.dir, "otelcol.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer errLog.Close()
	cmd.Stderr = errLog
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		b, _ := os.ReadFile(errLog.Name())
		t.Fatalf("otelcol did not start: %q\n%s", line, b)
	}
	c.cmd = cmd
}

// Stop stops the collector (SIGTERM, then SIGKILL after 5 seconds).
func (c *Collector) Stop() {
	if c.cmd == nil {
		return
	}
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	syscall.Kill(-c.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	c.cmd = nil
}

// Listening reports whether something accepts connections at GRPC.
func (c *Collector) Listening() bool {
	conn, err := net.DialTimeout("tcp", c.GRPC, time.Second)
	if err == nil {
		conn.Close()
	}
	return err == nil
}

// LogRecord is one log record the collector received, flattened: its
// attributes as strings (integers in decimal, booleans true/false).
type LogRecord struct {
	EventName    string
	SeverityText string
	Severity     int
	Body         string
	Attrs        map[string]string
	Resource     map[string]string
}

// Logs returns every log record received so far, in the order received.
func (c *Collector) Logs(t testing.TB) []LogRecord {
	t.Helper()
	b, err := os.ReadFile(c.Out)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []LogRecord
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var doc otlpLogs
		if err := json.Unmarshal(line, &doc); err != nil {
			t.Fatalf("otelcol output: %v: %s", err, line)
		}
		for _, rl := range doc.ResourceLogs {
			res := rl.Resource.Attributes.flat()
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					out = append(out, LogRecord{EventName: lr.EventName, SeverityText: lr.SeverityText, Severity: lr.SeverityNumber,
						Body: lr.Body.String(), Attrs: lr.Attributes.flat(), Resource: res})
				}
			}
		}
	}
	return out
}

// WaitLogs waits (30 seconds at most) until the collector has received
// at least n log records and returns them all.
func (c *Collector) WaitLogs(t testing.TB, n int) []LogRecord {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		logs := c.Logs(t)
		if len(logs) >= n || time.Now().After(deadline) {
			if len(logs) < n {
				t.Fatalf("the collector received %d log records, want %d", len(logs), n)
			}
			return logs
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The OTLP JSON encoding of logs (plog.JSONMarshaler), as much as the
// tests read.
type otlpLogs struct {
	ResourceLogs []struct {
		Resource struct {
			Attributes otlpAttrs `json:"attributes"`
		} `json:"resource"`
		ScopeLogs []struct {
			LogRecords []struct {
				EventName      string    `json:"eventName"`
				SeverityNumber int       `json:"severityNumber"`
				SeverityText   string    `json:"severityText"`
				Body           otlpValue `json:"body"`
				Attributes     otlpAttrs `json:"attributes"`
			} `json:"logRecords"`
		} `json:"scopeLogs"`
	} `json:"resourceLogs"`
}

type otlpAttrs []struct {
	Key   string    `json:"key"`
	Value otlpValue `json:"value"`
}

func (a otlpAttrs) flat() map[string]string {
	m := map[string]string{}
	for _, kv := range a {
		m[kv.Key] = kv.Value.String()
	}
	return m
}

type otlpValue struct {
	StringValue *string         `json:"stringValue"`
	IntValue    json.RawMessage `json:"intValue"`
	BoolValue   *bool           `json:"boolValue"`
}

func (v otlpValue) String() string {
	switch {
	case v.StringValue != nil:
		return *v.StringValue
	case v.IntValue != nil:
		return string(bytes.Trim(v.IntValue, `"`))
	case v.BoolValue != nil:
		return strconv.FormatBool(*v.BoolValue)
	}
	return fmt.Sprint(nil)
}

// ServeTLS makes the collector serve TLS (from its next Start) with a
// certificate for 127.0.0.1 and localhost, and returns the PEM of the
// CA that signed it.
func (c *Collector) ServeTLS(t testing.TB) []byte {
	t.Helper()
	dir := filepath.Join(c.dir, "pki")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p, err := newPKI(dir)
	if err != nil {
		t.Fatal(err)
	}
	c.CertFile, c.KeyFile = p.certFile, p.keyFile
	return p.caPEM
}
