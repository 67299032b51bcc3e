package audit

import (
	"context"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/testenv"
)

// BenchmarkAppendSynced is one Log.Append: lock, write, fdatasync. It
// reports the median and 99th percentile latency.
func BenchmarkAppendSynced(b *testing.B) {
	l, err := Open(b.TempDir()+"/audit.jsonl", Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	rec := testRecord("bench", 0)
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if err := l.Append(rec); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkAppendBatched is a long-running process submitting records as
// fast as it can through a Batcher; every record is synced before its
// channel reports.
func BenchmarkAppendBatched(b *testing.B) {
	l, err := Open(b.TempDir()+"/audit.jsonl", Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	appendBatched(b, l)
}

// BenchmarkVerify100k verifies a clean log of 100,000 records.
func BenchmarkVerify100k(b *testing.B) {
	path := writeLog(b, 100_000)
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	b.ResetTimer()
	cpu0, n := cpuTime(), 0
	for b.Loop() {
		n++
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		rep, err := Verify(f)
		f.Close()
		if err != nil || !rep.OK() || rep.Records != 100_000 {
			b.Fatalf("verify: %v %+v", err, rep)
		}
	}
	// CPU time is what the goal is about on a shared machine, where wall
	// time also counts waiting for a core.
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(n), "cpu-ms/op")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAppendBatchedExported is BenchmarkAppendBatched with the OTLP
// export on, as in agentctl serve: a sender flushes to the real
// collector (gRPC) while records are appended. It reports the append
// rate and, once the sender has caught up, the end-to-end export rate.
func BenchmarkAppendBatchedExported(b *testing.B) {
	col := testenv.NewCollector(b)
	col.Start(b)
	path := b.TempDir() + "/audit.jsonl"
	l, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	e, err := NewExporter(path, OTLPConfig{Endpoint: col.GRPC, Insecure: true, Cursor: path + ".cursor"})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithCancel(context.Background())
	sent := make(chan int)
	go func() {
		n := 0
		for ctx.Err() == nil {
			s, _, _ := e.Flush(context.Background())
			n += s
		}
		for { // what is left
			s, p, err := e.Flush(context.Background())
			n += s
			if err != nil || p == 0 {
				break
			}
		}
		sent <- n
	}()
	start := appendBatched(b, l)
	cancel()
	n := <-sent
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "exported/s")
	if n != b.N {
		b.Fatalf("exported %d of %d records", n, b.N)
	}
}

// appendBatched appends b.N records to l through a [Batcher], reports
// the rate as appends/s and returns when the timing started.
func appendBatched(b *testing.B, l *Log) time.Time {
	b.Helper()
	bt := NewBatcher(l, 0)
	defer bt.Close()
	recs := make([]*Record, b.N)
	for i := range recs {
		recs[i] = testRecord("bench", i)
	}
	errs := make([]<-chan error, 0, b.N)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		errs = append(errs, bt.Submit(recs[i]))
	}
	for _, e := range errs {
		if err := <-e; err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "appends/s")
	return start
}

// BenchmarkAppendWithFlags is the audit of commands as the one-shot
// path makes it, with the behavioural flags off and on: per command a
// Tracker.Check (on: lock the summary, read the records since the last
// check, compute, write it back) and a synced Append of the decision
// record and of the result. It reports records/s (two per command).
func BenchmarkAppendWithFlags(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(map[bool]string{false: "flags=off", true: "flags=on"}[on], func(b *testing.B) {
			l, tr := flagBench(b)
			a := benchAssessment()
			start, n := time.Now(), 0
			for b.Loop() {
				n++
				a.Target.Namespace = "ns-" + strconv.Itoa(n%50) // some new targets, most known
				var chk *Check
				if on {
					var err error
					if chk, err = tr.Check("bench", a); err != nil {
						b.Fatal(err)
					}
				}
				rec := testRecord("bench", n)
				rec.Flags = chk.ForRecord(false)
				if err := l.Append(rec); err != nil {
					b.Fatal(err)
				}
				if err := l.Append(NewResult(rec, time.Now())); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(2*n)/time.Since(start).Seconds(), "records/s")
		})
	}
}

// BenchmarkAppendBatchedWithFlags is BenchmarkAppendBatched with a
// Tracker.Check before every record is submitted (the broker's many
// commands; a command has two records and one check, so this checks
// twice as often as commands do).
func BenchmarkAppendBatchedWithFlags(b *testing.B) {
	l, tr := flagBench(b)
	bt := NewBatcher(l, 0)
	defer bt.Close()
	a := benchAssessment()
	errs := make([]<-chan error, 0, b.N)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		a.Target.Namespace = "ns-" + strconv.Itoa(i%50)
		chk, err := tr.Check("bench", a)
		if err != nil {
			b.Fatal(err)
		}
		rec := testRecord("bench", i)
		rec.Flags = chk.ForRecord(false)
		errs = append(errs, bt.Submit(rec))
	}
	for _, e := range errs {
		if err := <-e; err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "appends/s")
}

func flagBench(b *testing.B) (*Log, *Tracker) {
	dir := b.TempDir()
	l, err := Open(dir+"/audit.jsonl", Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	return l, &Tracker{Log: l.Path(), State: dir + "/flags-state.json", Config: DefaultFlagConfig()}
}

func benchAssessment() *classify.Assessment {
	return &classify.Assessment{Tool: "kubectl", Class: classify.Write,
		Target: classify.Target{Server: "https://prod:6443", Cluster: "prod", Namespace: "dev"}}
}

// BenchmarkFlagCheck is the Tracker.Check of BenchmarkAppendWithFlags
// alone, one record appended between checks.
func BenchmarkFlagCheck(b *testing.B) {
	l, tr := flagBench(b)
	a := benchAssessment()
	rec := testRecord("bench", 0)
	for b.Loop() {
		b.StopTimer()
		if err := l.Append(rec); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := tr.Check("bench", a); err != nil {
			b.Fatal(err)
		}
	}
}
