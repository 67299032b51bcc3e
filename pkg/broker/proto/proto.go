// Package proto is the wire protocol between agentctl's clients and its
// broker (`agentctl serve`), documented for people in docs/protocol.md.
//
// # Framing
//
// A connection carries frames in both directions. A frame is a 4-byte
// big-endian length N, then N bytes: one type byte and N-1 bytes of
// payload, a JSON object. N is at least 1 and at most [MaxFrame]; a reader
// refuses a longer frame from its header alone, before it reads or
// allocates the payload ([ErrFrameTooLarge]).
//
// # Conversation
//
// The client speaks first with [Hello], naming the range of protocol
// versions it speaks. The broker answers [Welcome] with the version both
// speak, or [Error] and closes: a client of another version learns it
// before it has sent its request, so nothing half runs. The client then
// sends one [Request], with its standard input, output and error attached
// as SCM_RIGHTS file descriptors, and after it any number of [Signal]s.
// The broker answers one [Exit] (or [Error]) and closes.
//
// Package proto knows frames and messages only: no sockets, no
// descriptors (those are the caller's, see package broker), nothing of
// the command line.
package proto

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Version is the protocol version this agentctl speaks; it speaks
// MinVersion to Version. Version 2 adds the client's terminal to a
// request ([Request].TTY); a version 1 request is a version 2 request
// without it.
const (
	MinVersion = 1
	Version    = 2
)

// TTYVersion is the first version whose requests may carry the client's
// terminal.
const TTYVersion = 2

// Magic names the protocol in every Hello: a connection that does not
// start with it is not an agentctl client.
const Magic = "agentctl-broker"

// ApproverMagic names the approver socket's protocol in its hellos:
// `agentctl inbox` attaching to the broker.
const ApproverMagic = "agentctl-approver"

// ApproverVersion is the approver socket's protocol version; it speaks
// only this one.
const ApproverVersion = 1

// MaxFrame is the largest frame, type byte and payload, either side
// accepts: 1 MiB. An argv and environment fit many times over; standard
// streams do not travel in frames.
const MaxFrame = 1 << 20

// Type is a frame's type byte.
type Type byte

// The frame types.
const (
	THello   Type = 'H' // client → broker, first frame
	TWelcome Type = 'W' // broker → client, answers Hello
	TRequest Type = 'R' // client → broker, once, with the stdio descriptors
	TSignal  Type = 'S' // client → broker, any number after Request
	TExit    Type = 'X' // broker → client, last frame
	TError   Type = 'E' // broker → client, last frame
	// On the approver socket:
	THandover Type = 'C' // broker → inbox, with a requester's connection
)

func (t Type) String() string {
	switch t {
	case THello:
		return "hello"
	case TWelcome:
		return "welcome"
	case TRequest:
		return "request"
	case TSignal:
		return "signal"
	case TExit:
		return "exit"
	case TError:
		return "error"
	case THandover:
		return "handover"
	}
	return fmt.Sprintf("type 0x%02x", byte(t))
}

// Errors of the framing.
var (
	// ErrFrameTooLarge is a frame header announcing more than MaxFrame.
	ErrFrameTooLarge = errors.New("frame larger than the protocol's limit")
	// ErrEmptyFrame is a frame header announcing zero bytes: no type.
	ErrEmptyFrame = errors.New("empty frame")
	// ErrTruncated is a connection that ended inside a frame.
	ErrTruncated = errors.New("connection ended inside a frame")
)

// AppendFrame appends the frame of type t with payload p to dst.
func AppendFrame(dst []byte, t Type, p []byte) ([]byte, error) {
	if len(p)+1 > MaxFrame {
		return dst, fmt.Errorf("%s frame of %d bytes: %w", t, len(p)+1, ErrFrameTooLarge)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(p)+1))
	dst = append(dst, byte(t))
	return append(dst, p...), nil
}

// Marshal returns the frame of type t whose payload is msg as JSON.
func Marshal(t Type, msg any) ([]byte, error) {
	p, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	return AppendFrame(nil, t, p)
}

// Write writes one frame of type t with msg as its JSON payload.
func Write(w io.Writer, t Type, msg any) error {
	b, err := Marshal(t, msg)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Read reads one frame. A clean end of the connection before a frame is
// io.EOF; one inside a frame is ErrTruncated.
func Read(r io.Reader) (Type, []byte, error) {
	var hdr [4]byte
	if n, err := io.ReadFull(r, hdr[:]); err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return 0, nil, io.EOF
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil, ErrTruncated
		}
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	switch {
	case n == 0:
		return 0, nil, ErrEmptyFrame
	case n > MaxFrame:
		return 0, nil, fmt.Errorf("frame of %d bytes (limit %d): %w", n, MaxFrame, ErrFrameTooLarge)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil, ErrTruncated
		}
		return 0, nil, err
	}
	return Type(buf[0]), buf[1:], nil
}

// ReadAs reads one frame, which must be of type want (or an Error, which
// is returned as *Error), and decodes its payload into msg.
func ReadAs(r io.Reader, want Type, msg any) error {
	t, p, err := Read(r)
	if err != nil {
		return err
	}
	return Decode(t, p, want, msg)
}

// Decode decodes the payload p of a frame of type t, which must be want
// (or an Error, returned as *Error), into msg.
func Decode(t Type, p []byte, want Type, msg any) error {
	if t == TError && want != TError {
		e := &Error{}
		if err := json.Unmarshal(p, e); err != nil {
			return fmt.Errorf("undecodable error frame: %w", err)
		}
		return e
	}
	if t != want {
		return &UnexpectedError{Got: t, Want: want}
	}
	if err := json.Unmarshal(p, msg); err != nil {
		return fmt.Errorf("undecodable %s frame: %w", t, err)
	}
	return nil
}

// UnexpectedError is a frame of another type than the conversation allows
// at that point.
type UnexpectedError struct{ Got, Want Type }

func (e *UnexpectedError) Error() string {
	return fmt.Sprintf("unexpected %s frame (want %s)", e.Got, e.Want)
}
