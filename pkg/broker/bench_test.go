package broker_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/broker"
	"github.com/agentctl/agentctl/pkg/broker/client"
	"github.com/agentctl/agentctl/pkg/broker/proto"
)

// BenchmarkConcurrentClients forwards a trivial command (/bin/true as the
// worker) from 1 and from 64 clients at once, and reports each request's
// latency from dial to exit code, p50 and p99. Figures, not assertions:
// docs/benchmarks.md.
func BenchmarkConcurrentClients(b *testing.B) {
	for _, n := range []int{1, 64} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			sock := serveBench(b, "/bin/true")
			null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
			if err != nil {
				b.Fatal(err)
			}
			defer null.Close()
			stdio := [3]*os.File{null, null, null}
			var mu sync.Mutex
			var lat []time.Duration
			b.ResetTimer()
			for range b.N {
				var wg sync.WaitGroup
				for range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						start := time.Now()
						c, err := client.Dial(sock)
						if err != nil {
							b.Error(err)
							return
						}
						code, err := client.Forward(c, &proto.Request{Argv: []string{"true"}, Cwd: "/"}, stdio, nil)
						d := time.Since(start)
						if err != nil || code != 0 {
							b.Errorf("exit %d, %v", code, err)
						}
						mu.Lock()
						lat = append(lat, d)
						mu.Unlock()
					}()
				}
				wg.Wait()
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

func serveBench(b *testing.B, exe string) string {
	b.Helper()
	d, err := os.MkdirTemp("", "brk")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(d) })
	sock := filepath.Join(d, "agentctl", "broker.sock")
	ln, err := broker.Listen(sock)
	if err != nil {
		b.Fatal(err)
	}
	srv := &broker.Server{Exe: exe, Env: []string{"PATH=/usr/bin:/bin"}, Runs: runsAll}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Serve(ctx, ln) }()
	b.Cleanup(func() {
		cancel()
		<-done
		ln.Close()
	})
	return sock
}
