// Command otelcol runs the OpenTelemetry Collector's OTLP receiver (the
// collector's own go.opentelemetry.io/collector/receiver/otlpreceiver,
// gRPC and HTTP) with a consumer that appends every batch of logs it
// receives to a file, one OTLP JSON object (plog.JSONMarshaler) a line,
// synced before the receiver answers: what the file holds was
// acknowledged. agentctl's tests read that file.
//
//	otelcol -grpc 127.0.0.1:4317 -http 127.0.0.1:4318 -out logs.jsonl
//	        [-tls-cert cert.pem -tls-key key.pem] [-fail N] [-header NAME]
//
// It prints "ready" on stdout once both listeners are bound and stops on
// SIGINT or SIGTERM. -fail N answers the first N batches with an error
// (UNAVAILABLE / 503) and writes nothing of them: a collector that refuses.
// -header NAME writes the value of the request header (gRPC metadata) NAME
// of each batch as the resource attribute "otelcol.header.NAME" (lower
// case) of its logs: what the exporter sent, as the receiver saw it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/zap"
)

type host struct{}

func (host) GetExtensions() map[component.ID]component.Component { return nil }

func main() {
	grpcAddr := flag.String("grpc", "", "gRPC listen address")
	httpAddr := flag.String("http", "", "HTTP listen address")
	out := flag.String("out", "", "file the received logs are appended to")
	cert := flag.String("tls-cert", "", "serve TLS with this certificate (PEM)")
	key := flag.String("tls-key", "", "and this key")
	fail := flag.Int("fail", 0, "refuse the first N batches")
	header := flag.String("header", "", "record this request header of each batch")
	flag.Parse()
	if *out == "" || *grpcAddr == "" && *httpAddr == "" {
		fmt.Fprintln(os.Stderr, "usage: otelcol -grpc ADDR -http ADDR -out FILE")
		os.Exit(2)
	}
	if err := run(*grpcAddr, *httpAddr, *out, *cert, *key, *header, *fail); err != nil {
		fmt.Fprintln(os.Stderr, "otelcol:", err)
		os.Exit(1)
	}
}

func run(grpcAddr, httpAddr, out, cert, key, header string, fail int) error {
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	var mu sync.Mutex
	var m plog.JSONMarshaler
	next, err := consumer.NewLogs(func(ctx context.Context, ld plog.Logs) error {
		mu.Lock()
		defer mu.Unlock()
		if fail > 0 {
			fail--
			return fmt.Errorf("refusing this batch (-fail)")
		}
		if header != "" {
			v := strings.Join(client.FromContext(ctx).Metadata.Get(header), ",")
			for i := range ld.ResourceLogs().Len() {
				ld.ResourceLogs().At(i).Resource().Attributes().PutStr("otelcol.header."+strings.ToLower(header), v)
			}
		}
		b, err := m.MarshalLogs(ld)
		if err != nil {
			return err
		}
		if _, err := f.Write(append(b, '\n')); err != nil {
			return err
		}
		return f.Sync()
	})
	if err != nil {
		return err
	}

	fac := otlpreceiver.NewFactory()
	cfg := fac.CreateDefaultConfig().(*otlpreceiver.Config)
	var tls configoptional.Optional[configtls.ServerConfig]
	if cert != "" {
		tls = configoptional.Some(configtls.ServerConfig{Config: configtls.Config{CertFile: cert, KeyFile: key}})
	}
	cfg.Protocols.GRPC = configoptional.None[configgrpc.ServerConfig]()
	if grpcAddr != "" {
		g := configgrpc.NewDefaultServerConfig()
		g.NetAddr.Endpoint = grpcAddr
		g.TLS = tls
		g.IncludeMetadata = header != ""
		cfg.Protocols.GRPC = configoptional.Some(g)
	}
	cfg.Protocols.HTTP = configoptional.None[otlpreceiver.HTTPConfig]()
	if httpAddr != "" {
		h := otlpreceiver.HTTPConfig{ServerConfig: confighttp.NewDefaultServerConfig(),
			TracesURLPath: "/v1/traces", MetricsURLPath: "/v1/metrics", LogsURLPath: "/v1/logs"}
		h.ServerConfig.NetAddr.Endpoint = httpAddr
		h.ServerConfig.TLS = tls
		h.ServerConfig.IncludeMetadata = header != ""
		cfg.Protocols.HTTP = configoptional.Some(h)
	}
	set := receiver.Settings{
		ID: component.NewID(fac.Type()),
		TelemetrySettings: component.TelemetrySettings{
			Logger:         zap.NewNop(),
			TracerProvider: tracenoop.NewTracerProvider(),
			MeterProvider:  metricnoop.NewMeterProvider(),
			Resource:       pcommon.NewResource(),
		},
		BuildInfo: component.NewDefaultBuildInfo(),
	}
	ctx := context.Background()
	r, err := fac.CreateLogs(ctx, set, cfg, next)
	if err != nil {
		return err
	}
	if err := r.Start(ctx, host{}); err != nil {
		return err
	}
	fmt.Println("ready")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	return r.Shutdown(ctx)
}
