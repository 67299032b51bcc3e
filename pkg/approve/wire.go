package approve

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
)

// maxMessage bounds one protocol message: a request carries its diff and
// its manifests (up to the classifier's 64 MiB, base64 in JSON).
const maxMessage = 160 << 20

// message is one line of the inbox protocol: newline-delimited JSON over
// the Unix socket. A requester sends one "request" with its [Content];
// the inbox answers with one "answer" and closes. A broker that showed
// the request in more than one place sends the others "answered" (with
// a note) once one has answered.
type message struct {
	Type  string `json:"type"` // request, answer, answered
	Nonce string `json:"nonce,omitempty"`
	// Note says, in an "answered" message a broker sends an inbox,
	// where the request was answered instead.
	Note    string        `json:"note,omitempty"`
	Request *Content      `json:"request,omitempty"`
	Answer  *SignedAnswer `json:"answer,omitempty"`
}

func writeMessage(w io.Writer, m *message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func readMessage(r *bufio.Reader) (*message, error) {
	var line []byte
	for {
		chunk, isPrefix, err := r.ReadLine()
		if err != nil {
			return nil, err
		}
		line = append(line, chunk...)
		if len(line) > maxMessage {
			return nil, fmt.Errorf("inbox message longer than %d bytes", maxMessage)
		}
		if !isPrefix {
			break
		}
	}
	m := new(message)
	if err := json.Unmarshal(line, m); err != nil {
		return nil, fmt.Errorf("malformed inbox message: %w", err)
	}
	return m, nil
}

// InboxRunning says whether an inbox answers on the socket.
func InboxRunning(p Paths) bool {
	c, err := net.Dial("unix", p.Socket)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

var errNoInbox = errors.New("no agentctl inbox is running")

// AnsweredLine is the "answered" message a broker sends an inbox whose
// request was answered in another place: note says where ("approved in
// the web page"). The inbox then withdraws the request with the note.
func AnsweredLine(note string) []byte {
	b, _ := json.Marshal(&message{Type: "answered", Note: note})
	return append(b, '\n')
}
