package session_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// hostileOpen opens a session on a scripted hostile server running script,
// with a context of the given timeout; the session, the server and the
// context end with the test.
func hostileOpen(t *testing.T, timeout time.Duration, script func(c *hostile.Conn) error) (context.Context, *session.Session) {
	t.Helper()
	conn, srv := hostile.Pipe(script)
	t.Cleanup(func() { srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	s, err := session.Open(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return ctx, s
}

// scriptedOpen opens a session with opts on a scripted server (scriptedServe) that
// answers SELECT and EXAMINE itself and every other command with
// answer(tag, line), and selects INBOX; the session ends with the test.
func scriptedOpen(t testing.TB, opts *session.Options, answer func(tag, line string) string) *session.Session {
	t.Helper()
	c, srv := transport.Pipe()
	go scriptedServe(srv, "* PREAUTH [CAPABILITY IMAP4rev1 IDLE LITERAL+ UIDPLUS] hi\r\n", answer)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := session.Open(ctx, c, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Run(ctx, &session.Command{Name: "SELECT", Args: func(e *wire.Encoder) { e.SP().Mailbox("INBOX") }}); err != nil {
		t.Fatal(err)
	}
	return s
}

// authCmd is an AUTHENTICATE X-TEST, allowed in any state, with
// onContinue as its OnContinue (nil: the caller answers from
// Continuations).
func authCmd(onContinue func([]byte) ([]byte, error)) *session.Command {
	return &session.Command{Name: "AUTHENTICATE", AnyState: true, OnContinue: onContinue,
		Args: func(e *wire.Encoder) { e.SP().Atom("X-TEST") }}
}

var scriptedLitRE = regexp.MustCompile(`~?\{(\d+)(\+?)\}\r\n$`)

// scriptedServe runs a scripted server on conn: greets with greeting, then for
// each command (literals read whole) writes answer(tag, line).
func scriptedServe(conn net.Conn, greeting string, answer func(tag, line string) string) {
	defer conn.Close()
	r := bufio.NewReaderSize(conn, 64<<10)
	w := bufio.NewWriterSize(conn, 64<<10)
	io.WriteString(w, greeting)
	w.Flush()
	for {
		var raw []byte
		for {
			line, err := r.ReadSlice('\n')
			if err != nil && err != bufio.ErrBufferFull {
				return
			}
			raw = append(raw, line...)
			if err == bufio.ErrBufferFull {
				continue
			}
			m := scriptedLitRE.FindSubmatch(raw[max(0, len(raw)-40):])
			if m == nil {
				break
			}
			n, _ := strconv.Atoi(string(m[1]))
			if len(m[2]) == 0 {
				io.WriteString(w, "+ go\r\n")
				w.Flush()
			}
			if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
				return
			}
		}
		s := string(raw[:min(len(raw), 200)])
		tag, rest, _ := strings.Cut(s, " ")
		if strings.HasPrefix(strings.ToUpper(rest), "SELECT ") || strings.HasPrefix(strings.ToUpper(rest), "EXAMINE ") {
			io.WriteString(w, "* 100 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n"+tag+" OK [READ-WRITE] selected\r\n")
		} else {
			io.WriteString(w, answer(tag, rest))
		}
		if r.Buffered() == 0 {
			w.Flush()
		}
	}
}
