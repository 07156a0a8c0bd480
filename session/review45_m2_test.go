package session_test

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/session"
)

// TestReview45MWaitOnContinueEndedFirst: AUTHENTICATE run with OnContinue
// (Run, so Wait answers the "+"); the server sends its challenge and then
// at once its tagged NO, before OnContinue returns (a server that times the
// step out, as TestAuthenticateEndedBeforeAnswer does for the auth
// package). Continue finds the command ended and sends nothing
// (ErrCommandEnded), and Wait returns that error as is, with no Result:
// the NO (a *StatusError with the Result) is lost, though Continue's own
// comment says "Wait gives its answer". Default options.
func TestReview45MWaitOnContinueEndedFirst(t *testing.T) {
	conn := fake(t, func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, lmGreeting)
		line := readLine(r)
		if !strings.Contains(line, "AUTHENTICATE") {
			return
		}
		tag, _, _ := strings.Cut(line, " ")
		io.WriteString(w, "+ \r\n"+tag+" NO [AUTHENTICATIONFAILED] too slow\r\n")
		io.Copy(io.Discard, r)
	})
	s, err := session.Open(ctx20(t), conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Run(ctx20(t), s45AuthCmd(func([]byte) ([]byte, error) {
		time.Sleep(50 * time.Millisecond) // the NO is read meanwhile
		return []byte("dG9rZW4="), nil
	}))
	var se *session.StatusError
	if !errors.As(err, &se) || res == nil {
		t.Fatalf("Run: result %v, err %v (ErrCommandEnded: %v); want the tagged NO as a *StatusError with its Result", res, err, errors.Is(err, session.ErrCommandEnded))
	}
}
