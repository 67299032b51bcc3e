package audit

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFormatRFC5424(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 30, 45, 123456000, time.FixedZone("CET", 3600))
	got := string(FormatRFC5424(10*8+6, at, "build host", "agentctl", 4242, "decision", []byte(`{"v":1}`)))
	want := `<86>1 2026-03-01T11:30:45.123456Z buildhost agentctl 4242 decision - {"v":1}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// startRsyslog runs a real rsyslogd on loopback with TCP, UDP and unix
// socket inputs, writing what it receives to a file.
func startRsyslog(t *testing.T) (tcp, udp, sock, out string) {
	t.Helper()
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("rsyslogd not installed: the CI image needs the rsyslog package")
		}
		t.Skip("rsyslogd not installed; apt-get install rsyslog to run this test")
	}
	dir := t.TempDir()
	tcp, udp = freeAddr(t, "tcp"), freeAddr(t, "udp")
	sock, out = filepath.Join(dir, "log.sock"), filepath.Join(dir, "out.log")
	_, tport, _ := net.SplitHostPort(tcp)
	_, uport, _ := net.SplitHostPort(udp)
	conf := fmt.Sprintf(`global(workDirectory=%[1]q maxMessageSize="64k")
module(load="imtcp")
module(load="imudp")
module(load="imuxsock" SysSock.Use="off")
input(type="imtcp" address="127.0.0.1" port=%[2]q)
input(type="imudp" address="127.0.0.1" port=%[3]q)
input(type="imuxsock" Socket=%[4]q UseSpecialParser="off")
template(name="t" type="string" string="%%syslogfacility-text%% %%syslogseverity-text%% %%app-name%% %%procid%% %%msgid%% %%msg%%\n")
*.* action(type="omfile" file=%[5]q template="t")
`, dir, tport, uport, sock, out)
	confPath := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-n", "-f", confPath, "-i", filepath.Join(dir, "rsyslogd.pid"))
	logFile, err := os.Create(filepath.Join(dir, "rsyslogd.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	listening := waitFor(func() bool {
		c, err := net.Dial("tcp", tcp)
		if err != nil {
			return false
		}
		c.Close()
		_, err = os.Stat(sock)
		return err == nil
	})
	if !listening {
		b, _ := os.ReadFile(logFile.Name())
		t.Fatalf("rsyslogd did not start listening; its output:\n%s", b)
	}
	return tcp, udp, sock, out
}

func freeAddr(t *testing.T, network string) string {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().String()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitFor polls cond for up to 20 seconds (a bound against hanging, not a
// timing assertion) and says whether it came true.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}

func TestRsyslogReceivesRecords(t *testing.T) {
	tcp, udp, sock, out := startRsyslog(t)
	var sinks []Sink
	for _, c := range []SyslogConfig{{Network: "tcp", Addr: tcp}, {Network: "udp", Addr: udp}, {Network: "unix", Addr: sock}} {
		c.Required = true
		s, err := NewSyslog(c)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		sinks = append(sinks, s)
	}
	path := t.TempDir() + "/audit.jsonl"
	l, err := Open(path, Options{Sinks: sinks})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 3 {
		if err := l.Append(testRecord("syslog-agent", i)); err != nil {
			t.Fatal(err)
		}
	}
	file, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(file)), "\n")
	waitFor(func() bool {
		b, _ := os.ReadFile(out)
		return strings.Count(string(b), "\n") >= 9
	})
	got, _ := os.ReadFile(out) // checked below, whether or not all 9 arrived
	for _, line := range lines {
		want := fmt.Sprintf("authpriv notice agentctl %d decision %s\n", os.Getpid(), line)
		if n := strings.Count(string(got), want); n != 3 {
			t.Errorf("record seen %d times (want once per transport) in rsyslog's output:\nwant line %s\ngot\n%s", n, want, got)
		}
	}
}

func TestSinkFailure(t *testing.T) {
	closed := freeAddr(t, "tcp") // nothing listens there any more
	for _, required := range []bool{true, false} {
		t.Run(fmt.Sprintf("required=%v", required), func(t *testing.T) {
			s, err := NewSyslog(SyslogConfig{Network: "tcp", Addr: closed, Required: required})
			if err != nil {
				t.Fatal(err)
			}
			var warnings []string
			l, err := Open(t.TempDir()+"/audit.jsonl", Options{Sinks: []Sink{s}, Warn: func(m string) { warnings = append(warnings, m) }})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			err = l.Append(testRecord("a", 0))
			var se *SinkError
			if required {
				if !errors.Is(err, ErrNotRecorded) || !errors.As(err, &se) || !strings.Contains(err.Error(), "cannot send audit record to syslog tcp "+closed) {
					t.Fatalf("want a sink error that blocks the command, got %v", err)
				}
				return
			}
			if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], "connection refused") {
				t.Fatalf("an optional sink's failure must be reported, not fatal: err %v, warnings %q", err, warnings)
			}
		})
	}
}

type fakeSink struct {
	kinds []Kind
	lines []string
}

func (s *fakeSink) Send(r *Record, line []byte) error {
	s.kinds, s.lines = append(s.kinds, r.Kind), append(s.lines, string(line))
	return nil
}
func (s *fakeSink) Required() bool { return true }
func (s *fakeSink) String() string { return "fake" }

func TestSinkGetsTheRepairRecordToo(t *testing.T) {
	path := writeLog(t, 3)
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"v":1,"seq":4,"pr`) // a torn line
	f.Close()
	sink := &fakeSink{}
	l, err := Open(path, Options{Sinks: []Sink{sink}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Append(testRecord("a", 0)); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	fileLines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(sink.kinds) != 2 || sink.kinds[0] != KindRepair || sink.kinds[1] != KindDecision ||
		sink.lines[0] != fileLines[len(fileLines)-2] || sink.lines[1] != fileLines[len(fileLines)-1] {
		t.Fatalf("sink got %v, want the repair and the decision exactly as in the file", sink.kinds)
	}
}

func TestParseSyslogURL(t *testing.T) {
	tests := []struct {
		in      string
		want    SyslogConfig
		wantErr string
	}{
		{"tcp://127.0.0.1:514", SyslogConfig{Network: "tcp", Addr: "127.0.0.1:514"}, ""},
		{"udp://siem:514?facility=local0", SyslogConfig{Network: "udp", Addr: "siem:514", Facility: "local0"}, ""},
		{"unix:///dev/log?required=true", SyslogConfig{Network: "unix", Addr: "/dev/log", Required: true}, ""},
		{"http://siem:514", SyslogConfig{}, `syslog network "http"`},
		{"tcp://siem:514?facility=nope", SyslogConfig{}, `unknown syslog facility "nope"`},
		{"tcp://siem:514?required=maybe", SyslogConfig{}, `required="maybe" is not a boolean`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSyslogURL(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want error %q, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
