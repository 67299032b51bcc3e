package audit

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// OTLPConfig configures an [Exporter]: where the audit records go as
// OpenTelemetry log records.
type OTLPConfig struct {
	// Endpoint is host:port of the collector's OTLP receiver.
	Endpoint string
	// Protocol is "grpc" (default) or "http" (OTLP/HTTP protobuf, path
	// /v1/logs).
	Protocol string
	// Headers are sent with every export (an API key for the SIEM).
	Headers map[string]string
	// CA is a PEM bundle the collector's certificate must chain to (nil:
	// the system roots).
	CA []byte
	// Insecure sends in plain text, allowed only to a loopback address.
	Insecure bool
	// Cursor is the file that remembers the last record the collector
	// acknowledged (a lock file beside it serialises senders).
	Cursor string
	// Max bounds the records one [Exporter.Flush] sends (0: 2048), Batch
	// the records of one export request (0: 512).
	Max, Batch int
}

// Exporter sends the records of one audit log to an OTLP collector, in
// order, at least once. The log itself is the queue: a cursor file holds
// the offset and hash of the last record the collector acknowledged, and
// each [Exporter.Flush] sends what follows it. A collector that is down
// or slow costs a flush its deadline and loses nothing; the next flush
// (of this or another process) starts again from the cursor.
type Exporter struct {
	cfg  OTLPConfig
	log  string
	exp  sdklog.Exporter
	prov *sdklog.LoggerProvider
	coll *collector
	lg   otellog.Logger
}

// collector is the processor of the exporter's own logger provider: it
// keeps the records the logger emits, so that Flush exports them itself
// and knows whether the collector took them.
type collector struct{ recs []sdklog.Record }

func (c *collector) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (c *collector) OnEmit(_ context.Context, r *sdklog.Record) error {
	c.recs = append(c.recs, r.Clone())
	return nil
}
func (c *collector) Shutdown(context.Context) error   { return nil }
func (c *collector) ForceFlush(context.Context) error { return nil }

// NewExporter checks cfg and returns an exporter of the log at logPath.
// It does not connect: a collector that is down is not an error here.
func NewExporter(logPath string, cfg OTLPConfig) (*Exporter, error) {
	if cfg.Protocol == "" {
		cfg.Protocol = "grpc"
	}
	if cfg.Max <= 0 {
		cfg.Max = 2048
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 512
	}
	if cfg.Cursor == "" {
		return nil, errors.New("otlp: no cursor file")
	}
	host, _, err := net.SplitHostPort(cfg.Endpoint)
	if err != nil || host == "" {
		return nil, fmt.Errorf("otlp endpoint %q: want host:port", cfg.Endpoint)
	}
	if cfg.Insecure && !loopback(host) {
		return nil, fmt.Errorf("otlp endpoint %q: insecure (plain text) is allowed only to a loopback address", cfg.Endpoint)
	}
	if cfg.Insecure && cfg.CA != nil {
		return nil, fmt.Errorf("otlp endpoint %q: a CA and insecure exclude each other", cfg.Endpoint)
	}
	var tlsCfg *tls.Config
	if !cfg.Insecure {
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.CA != nil {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(cfg.CA) {
				return nil, errors.New("otlp CA: no PEM certificate in it")
			}
			tlsCfg.RootCAs = pool
		}
	}
	headers := cfg.Headers
	if headers == nil {
		headers = map[string]string{} // never OTEL_EXPORTER_OTLP_HEADERS of the agent's environment
	}
	ctx := context.Background()
	var exp sdklog.Exporter
	// Every option that the OTEL_EXPORTER_OTLP_* variables could set is
	// set here, and no proxy is used: the agent sets the environment.
	switch cfg.Protocol {
	case "grpc":
		opts := []otlploggrpc.Option{otlploggrpc.WithEndpoint(cfg.Endpoint), otlploggrpc.WithHeaders(headers),
			otlploggrpc.WithRetry(otlploggrpc.RetryConfig{Enabled: false}), otlploggrpc.WithTimeout(10 * time.Second),
			otlploggrpc.WithDialOption(grpc.WithNoProxy())}
		if cfg.Insecure {
			opts = append(opts, otlploggrpc.WithInsecure())
		} else {
			opts = append(opts, otlploggrpc.WithTLSCredentials(credentials.NewTLS(tlsCfg)))
		}
		exp, err = otlploggrpc.New(ctx, opts...)
	case "http":
		opts := []otlploghttp.Option{otlploghttp.WithEndpoint(cfg.Endpoint), otlploghttp.WithURLPath("/v1/logs"),
			otlploghttp.WithHeaders(headers), otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}),
			otlploghttp.WithTimeout(10 * time.Second), otlploghttp.WithCompression(otlploghttp.NoCompression),
			otlploghttp.WithProxy(func(*http.Request) (*url.URL, error) { return nil, nil })}
		if cfg.Insecure {
			opts = append(opts, otlploghttp.WithInsecure())
		} else {
			opts = append(opts, otlploghttp.WithTLSClientConfig(tlsCfg))
		}
		exp, err = otlploghttp.New(ctx, opts...)
	default:
		return nil, fmt.Errorf("otlp protocol %q: want grpc or http", cfg.Protocol)
	}
	if err != nil {
		return nil, fmt.Errorf("otlp: %w", err)
	}
	hostname, _ := os.Hostname()
	res := resource.NewSchemaless(attribute.String("service.name", "agentctl"), attribute.String("host.name", hostname))
	coll := &collector{}
	prov := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(coll),
		sdklog.WithAttributeCountLimit(-1), sdklog.WithAttributeValueLengthLimit(-1))
	return &Exporter{cfg: cfg, log: logPath, exp: exp, prov: prov, coll: coll,
		lg: prov.Logger("github.com/agentctl/agentctl/pkg/audit")}, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (e *Exporter) String() string { return "otlp " + e.cfg.Protocol + " " + e.cfg.Endpoint }

// Close releases the exporter's connection.
func (e *Exporter) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return e.exp.Shutdown(ctx)
}

// Cursor is the cursor file's path.
func (e *Exporter) Cursor() string { return e.cfg.Cursor }

// Flush sends the records after the cursor, at most cfg.Max, in batches,
// until ctx is done. It returns how many it sent and how many it saw
// still waiting after them (0: the collector has everything). When
// another process is flushing the same log, it returns at once with
// nothing sent: that one sends. An error (a collector that is down, a
// deadline) leaves the cursor at the last batch acknowledged.
func (e *Exporter) Flush(ctx context.Context) (sent, pending int, err error) {
	c, unlock, err := lockCursor(e.cfg.Cursor, e.log)
	if err != nil || c == nil {
		return 0, 0, err
	}
	defer unlock()
	for sent < e.cfg.Max {
		batch, err := readAfter(e.log, c, min(e.cfg.Batch, e.cfg.Max-sent))
		if err != nil {
			return sent, 0, err
		}
		if len(batch.lines) == 0 {
			return sent, 0, nil
		}
		if err := e.export(ctx, batch); err != nil {
			p, _ := countAfter(e.log, c)
			return sent, p, fmt.Errorf("%s: %w", e, err)
		}
		*c = batch.next
		if err := c.save(e.cfg.Cursor); err != nil {
			return sent, 0, err
		}
		sent += len(batch.lines)
	}
	p, err := countAfter(e.log, c)
	return sent, p, err
}

func (e *Exporter) export(ctx context.Context, b *pendingBatch) error {
	e.coll.recs = e.coll.recs[:0]
	now := time.Now()
	for i, rec := range b.recs {
		e.lg.Emit(ctx, LogRecord(rec, b.lines[i], now))
	}
	return e.exp.Export(ctx, e.coll.recs)
}

// The attribute names of an exported record (docs/audit.md). They are
// stable: a SIEM's rules are written against them.
const (
	AttrKind      = "agentctl.kind"
	AttrSeq       = "agentctl.seq"
	AttrHash      = "agentctl.record.hash"
	AttrPrev      = "agentctl.record.prev"
	AttrID        = "agentctl.request.id"
	AttrUser      = "agentctl.user"
	AttrUID       = "agentctl.uid"
	AttrPID       = "agentctl.pid"
	AttrAgent     = "agentctl.agent"
	AttrIntent    = "agentctl.intent"
	AttrTool      = "agentctl.tool"
	AttrCommand   = "agentctl.command"
	AttrClass     = "agentctl.class"
	AttrDecision  = "agentctl.decision"
	AttrRule      = "agentctl.rule"
	AttrApproval  = "agentctl.approval"
	AttrApprover  = "agentctl.approver"
	AttrExitCode  = "agentctl.exit_code"
	AttrExecuted  = "agentctl.executed"
	AttrError     = "agentctl.error"
	AttrFlags     = "agentctl.flags"   // the flags' names, comma-separated
	AttrTargetPfx = "agentctl.target." // + context, cluster, server, namespace, workspace, dir, env, user
)

// LogRecord is the OpenTelemetry log record of one audit record: its
// body is the record's exact line (so the receiver can check the chain),
// its attributes the fields a SIEM filters on, its event name
// "agentctl.audit.KIND", its severity WARN for denials, flagged records
// and repairs, INFO otherwise.
func LogRecord(rec *Record, line []byte, observed time.Time) otellog.Record {
	var r otellog.Record
	r.SetEventName("agentctl.audit." + string(rec.Kind))
	r.SetTimestamp(rec.Time)
	r.SetObservedTimestamp(observed)
	r.SetBody(attribute.StringValue(string(line)))
	sev, text := otellog.SeverityInfo, "INFO"
	if severity(rec) <= 4 {
		sev, text = otellog.SeverityWarn, "WARN"
	}
	r.SetSeverity(sev)
	r.SetSeverityText(text)
	kv := []attribute.KeyValue{
		attribute.String(AttrKind, string(rec.Kind)),
		attribute.Int64(AttrSeq, rec.Seq),
		attribute.String(AttrHash, hashLine(line)),
		attribute.String(AttrPrev, rec.Prev),
		attribute.Int(AttrUID, rec.UID),
		attribute.Int(AttrPID, rec.PID),
	}
	str := func(k, v string) {
		if v != "" {
			kv = append(kv, attribute.String(k, v))
		}
	}
	str(AttrID, rec.ID)
	str(AttrUser, rec.User)
	str(AttrAgent, rec.Agent)
	str(AttrIntent, rec.Intent)
	str(AttrTool, rec.Tool)
	if rec.Args != nil {
		str(AttrCommand, rec.Command())
	}
	if rec.Class != nil {
		str(AttrClass, rec.Class.String())
	}
	str(AttrDecision, rec.Decision)
	str(AttrRule, rec.Rule)
	str(AttrApproval, rec.Approval)
	str(AttrApprover, rec.Approver)
	if rec.Exit != nil {
		kv = append(kv, attribute.Int(AttrExitCode, *rec.Exit))
	}
	if rec.Kind == KindResult {
		kv = append(kv, attribute.Bool(AttrExecuted, rec.Executed))
	}
	str(AttrError, rec.Error)
	if len(rec.Flags) > 0 {
		names := make([]string, len(rec.Flags))
		for i, f := range rec.Flags {
			names[i] = f.Name
		}
		str(AttrFlags, strings.Join(names, ","))
	}
	if t := rec.Target; t != nil {
		for _, f := range []struct{ k, v string }{{"context", t.Context}, {"cluster", t.Cluster}, {"server", t.Server},
			{"namespace", t.Namespace}, {"workspace", t.Workspace}, {"dir", t.Dir}, {"env", t.Env}, {"user", t.User}} {
			str(AttrTargetPfx+f.k, f.v)
		}
	}
	r.AddAttributes(kv...)
	return r
}
