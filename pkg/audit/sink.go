package audit

// Sink receives each record after it is in the file, for example a
// [Syslog] forwarding to a SIEM.
type Sink interface {
	// Send delivers one record; line is its exact bytes in the file.
	Send(rec *Record, line []byte) error
	// Required says whether a failure blocks the command like a file
	// failure does. A failure of an optional sink is reported and the
	// command goes on.
	Required() bool
	// String names the sink in messages: "syslog tcp 127.0.0.1:514".
	String() string
}
