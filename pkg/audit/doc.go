// Package audit writes and reads agentctl's tamper-evident audit log: an
// append-only JSON Lines file with one [Record] before each command runs
// (the decision) and one after (the result), linked by the request id.
//
// # Writing
//
// [Open] a [Log] at [DefaultPath] and [Log.Append] each record. Append
// takes an exclusive flock (bounded by [Options].LockTimeout), sets the
// record's seq and prev, writes one line and fdatasyncs it before it
// returns. The pipeline must append the decision record before it runs
// a command and must not run it on error: every failure matches
// errors.Is(err, [ErrNotRecorded]) and is a *[WriteError] or a
// *[SinkError] with a Hint. Long-running processes use a [Batcher], a
// group commit with the same guarantee.
//
// # Chain
//
// Each record's prev is the hex SHA-256 of the previous record's exact
// line (without its newline); the first record's prev is [Genesis]. [Verify]
// checks a whole file and names the first broken record and what most
// likely happened to it ([Edited], [Deleted], [Inserted], [Reordered]).
//
// # Crashes
//
// A writer killed mid-write leaves a torn last line. Verify reports it as
// a [TornTail]; the next writer appends a [KindRepair] record that chains
// from the last complete record and names the torn bytes, and tells the
// user through [Options].Warn. Verify accepts torn lines only when such a
// repair follows them.
//
// # Secrets
//
// Records hold argv with secrets masked by [MaskArgs] (Append masks again)
// and the identity of credentials, never credentials.
//
// # Reading and forwarding
//
// [Requests] and [Filter] serve `agentctl audit log`, [Follow] serves
// `audit tail -f`. A [Syslog] sink forwards each record as an RFC 5424
// message to a local or remote syslog daemon (a SIEM).
//
// The schema, the repair rules and measured figures are in docs/audit.md.
package audit
