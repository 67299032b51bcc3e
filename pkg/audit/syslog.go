package audit

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"
)

// SyslogConfig configures a [Syslog] sink.
type SyslogConfig struct {
	// Network is "unix" (a datagram socket such as /dev/log), "udp" or
	// "tcp".
	Network string
	// Addr is host:port, or the socket path for "unix".
	Addr string
	// Facility is a syslog facility name (default "authpriv").
	Facility string
	// Hostname defaults to os.Hostname.
	Hostname string
	// Required makes a failure to send block the command like a failure
	// to write the file (see [Sink]).
	Required bool
	// Timeout bounds connecting and each write (default 2 seconds).
	Timeout time.Duration
}

// Syslog sends each record to a syslog daemon as an RFC 5424 message: the
// MSG part is the record's exact line, so a SIEM can check the chain too.
// Over TCP messages are framed by octet counting (RFC 6587); over UDP and
// unix datagram sockets each message is one datagram. The connection is
// made on first use and remade once after a failure.
type Syslog struct {
	cfg      SyslogConfig
	facility int

	mu   sync.Mutex
	conn net.Conn
}

var _ Sink = (*Syslog)(nil)

var facilities = map[string]int{
	"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5,
	"lpr": 6, "news": 7, "uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11,
	"ntp": 12, "security": 13, "console": 14, "local0": 16, "local1": 17,
	"local2": 18, "local3": 19, "local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

// NewSyslog checks cfg and returns a sink; it does not connect yet.
func NewSyslog(cfg SyslogConfig) (*Syslog, error) {
	switch cfg.Network {
	case "unix", "udp", "tcp":
	default:
		return nil, fmt.Errorf("syslog network %q: want unix, udp or tcp", cfg.Network)
	}
	if cfg.Addr == "" {
		return nil, fmt.Errorf("syslog %s: no address", cfg.Network)
	}
	if cfg.Facility == "" {
		cfg.Facility = "authpriv"
	}
	fac, ok := facilities[cfg.Facility]
	if !ok {
		return nil, fmt.Errorf("unknown syslog facility %q", cfg.Facility)
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	return &Syslog{cfg: cfg, facility: fac}, nil
}

func (s *Syslog) String() string { return "syslog " + s.cfg.Network + " " + s.cfg.Addr }

// Required implements [Sink].
func (s *Syslog) Required() bool { return s.cfg.Required }

// Send implements [Sink].
func (s *Syslog) Send(rec *Record, line []byte) error {
	msg := FormatRFC5424(s.facility*8+severity(rec), rec.Time, s.cfg.Hostname, "agentctl", rec.PID, string(rec.Kind), line)
	if s.cfg.Network == "tcp" {
		msg = append([]byte(strconv.Itoa(len(msg))+" "), msg...)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	for try := 0; try < 2; try++ {
		if s.conn == nil {
			if s.conn, err = net.DialTimeout(unixgram(s.cfg.Network), s.cfg.Addr, s.cfg.Timeout); err != nil {
				s.conn = nil
				continue
			}
		}
		s.conn.SetWriteDeadline(time.Now().Add(s.cfg.Timeout))
		if _, err = s.conn.Write(msg); err == nil {
			return nil
		}
		s.conn.Close()
		s.conn = nil
	}
	return err
}

// Close closes the connection.
func (s *Syslog) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}

func unixgram(network string) string {
	if network == "unix" {
		return "unixgram"
	}
	return network
}

// severity: denials, flagged records and repairs are warnings, approvals
// notices, the rest informational.
func severity(r *Record) int {
	switch {
	case r.Kind == KindRepair || r.Decision == "deny" || len(r.Flags) > 0:
		return 4
	case r.Decision == "approve":
		return 5
	}
	return 6
}

// FormatRFC5424 formats one syslog message (RFC 5424, section 6) with no
// structured data:
//
//	<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG
//
// Header fields are cut to their maximum lengths and emptied to "-".
func FormatRFC5424(pri int, t time.Time, host, app string, pid int, msgid string, msg []byte) []byte {
	b := fmt.Appendf(nil, "<%d>1 %s %s %s %d %s - ", pri,
		t.UTC().Format("2006-01-02T15:04:05.000000Z07:00"),
		header5424(host, 255), header5424(app, 48), pid, header5424(msgid, 32))
	return append(b, msg...)
}

// header5424 keeps printable US-ASCII (33..126), at most n bytes, or "-".
func header5424(s string, n int) string {
	out := make([]byte, 0, min(len(s), n))
	for i := 0; i < len(s) && len(out) < n; i++ {
		if s[i] >= 33 && s[i] <= 126 {
			out = append(out, s[i])
		}
	}
	if len(out) == 0 {
		return "-"
	}
	return string(out)
}

// EnvSyslog is the environment variable holding a syslog sink URL.
const EnvSyslog = "AGENTCTL_AUDIT_SYSLOG"

// ParseSyslogURL reads a sink configuration written as a URL:
//
//	tcp://127.0.0.1:514
//	udp://siem.internal:514?facility=local0
//	unix:///dev/log?required=true
//
// Query parameters: facility (default authpriv), required (a boolean).
func ParseSyslogURL(s string) (SyslogConfig, error) {
	u, err := url.Parse(s)
	if err != nil {
		return SyslogConfig{}, fmt.Errorf("invalid syslog URL %q: %w", s, err)
	}
	c := SyslogConfig{Network: u.Scheme, Addr: u.Host, Facility: u.Query().Get("facility")}
	if u.Scheme == "unix" {
		c.Addr = u.Path
	}
	if r := u.Query().Get("required"); r != "" {
		if c.Required, err = strconv.ParseBool(r); err != nil {
			return SyslogConfig{}, fmt.Errorf("invalid syslog URL %q: required=%q is not a boolean", s, r)
		}
	}
	if _, err := NewSyslog(c); err != nil {
		return SyslogConfig{}, fmt.Errorf("invalid syslog URL %q: %w", s, err)
	}
	return c, nil
}
