package session_test

import (
	"bufio"
	"io"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/session"
)

// TestRefusedLogoutKeepsSession: a LOGOUT the server refuses (NO, BAD:
// it keeps the connection) leaves the session as it was, and commands go
// on. The state moved to LOGOUT on any answer to it, and once commands
// were refused in that state (TestLogoutWhileCommandsRun) such a session
// could send nothing though not closed. Found by the review of
// 2026-12-04.
func TestRefusedLogoutKeepsSession(t *testing.T) {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n")
		for {
			l := readLine(r)
			if l == "" {
				return
			}
			tag, rest, _ := strings.Cut(l, " ")
			if strings.HasPrefix(rest, "LOGOUT") {
				io.WriteString(w, tag+" BAD not now\r\n")
				continue
			}
			io.WriteString(w, tag+" OK done\r\n")
		}
	})
	s := openDefaults(t, conn, nil)
	if _, err := s.Run(hangCtx(t), &session.Command{Name: "LOGOUT"}); err == nil {
		t.Fatal("LOGOUT: no error for BAD")
	}
	if _, err := s.Run(hangCtx(t), &session.Command{Name: "NOOP"}); err != nil {
		t.Fatalf("NOOP after a refused LOGOUT: %v (session err %v)", err, s.Err())
	}
}
