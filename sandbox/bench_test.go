package sandbox

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkSandboxSetup measures a whole sandboxed run of a trivial
// command: re-exec, namespaces, loopback, forwarders, Landlock, the entry
// or exec, exit. It reports the median as p50-ms (goal: ≤ 5 ms for the
// in-process entry).
func BenchmarkSandboxSetup(b *testing.B) {
	if st := probeOnce(); !st.UserNS || st.LandlockABI < 1 {
		b.Skip("sandbox not enforceable here")
	}
	cases := []struct {
		name string
		cfg  Config
	}{
		{"entry", Config{Entry: "true", Required: true}},
		{"entry with cluster destination", Config{Entry: "true", Destinations: []string{"127.0.0.1:6443"}, Required: true}},
		{"exec /bin/true", Config{Argv: []string{"/bin/true"}, Required: true}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var d []time.Duration
			for b.Loop() {
				start := time.Now()
				code, _, err := Run(context.Background(), c.cfg, Stdio{})
				if err != nil || code != 0 {
					b.Fatalf("Run() = %d, %v", code, err)
				}
				d = append(d, time.Since(start))
			}
			slices.Sort(d)
			b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "p50-ms")
		})
	}
}

// BenchmarkSandboxMountNS measures a whole sandboxed run with and
// without the mount namespace (the root of only the granted paths), for
// the in-process entry and for an exec'd program, and reports the
// median as p50-ms.
func BenchmarkSandboxMountNS(b *testing.B) {
	if st := probeOnce(); !st.UserNS || st.LandlockABI < 1 {
		b.Skip("sandbox not enforceable here")
	}
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"entry", Config{Entry: "true", Destinations: []string{"127.0.0.1:6443"}, Required: true}},
		{"exec /bin/true", Config{Argv: []string{"/bin/true"}, Required: true}},
	} {
		for _, mnt := range []bool{true, false} {
			name := c.name + "/mount namespace"
			if !mnt {
				name = c.name + "/landlock only"
			}
			b.Run(name, func(b *testing.B) {
				cfg := c.cfg
				cfg.noMountNS = !mnt
				var d []time.Duration
				for b.Loop() {
					start := time.Now()
					code, enf, err := Run(context.Background(), cfg, Stdio{})
					if err != nil || code != 0 || enf.MountNS != mnt {
						b.Fatalf("Run() = %d, %v, %v", code, enf, err)
					}
					d = append(d, time.Since(start))
				}
				slices.Sort(d)
				b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "p50-ms")
			})
		}
	}
}

// BenchmarkSandboxPrestarted measures what remains on the critical path
// when the child was started ahead (see Prestart) while agentctl parsed,
// classified and decided: handing over the config, Landlock, the entry,
// exit.
func BenchmarkSandboxPrestarted(b *testing.B) {
	if st := probeOnce(); !st.UserNS || st.LandlockABI < 1 {
		b.Skip("sandbox not enforceable here")
	}
	cfg := Config{Entry: "true", Destinations: []string{"127.0.0.1:6443"}, Required: true}
	var d []time.Duration
	for b.Loop() {
		b.StopTimer()
		c, err := Prestart(Stdio{})
		if err != nil {
			b.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond) // agentctl's own work; the child starts meanwhile
		b.StartTimer()
		start := time.Now()
		code, _, err := c.Run(context.Background(), cfg)
		if err != nil || code != 0 {
			b.Fatalf("Run() = %d, %v", code, err)
		}
		d = append(d, time.Since(start))
	}
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "p50-ms")
}

// BenchmarkProbe measures Probe (one child in new namespaces).
func BenchmarkProbe(b *testing.B) {
	for b.Loop() {
		Probe()
	}
}
