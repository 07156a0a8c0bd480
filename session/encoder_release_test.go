package session_test

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// answerEach is a server script: a greeting, then a tagged OK for each
// command line, followed by after.
func answerEach(after string) func(r *bufio.Reader, w io.Writer) {
	return func(r *bufio.Reader, w io.Writer) {
		io.WriteString(w, "* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n")
		for line := readLine(r); line != ""; line = readLine(r) {
			tag, _, _ := strings.Cut(line, " ")
			io.WriteString(w, tag+" OK done\r\n"+after)
		}
	}
}

// TestReleasesEncoder: with the defaults, a session holds its command
// Encoder only while something is to be written. After a command with a
// 64 KiB argument is answered it holds none (so not the buffer that
// command grew), and the next commands encode as before.
func TestReleasesEncoder(t *testing.T) {
	conn := fake(t, answerEach(""))
	ctx := hangCtx(t)
	s, err := session.Open(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if session.HeldEncoder(s) {
		t.Fatal("an Encoder held before any command")
	}
	big := strings.Repeat("a", 64<<10)
	for i, cmd := range []*session.Command{
		{Name: "NOOP"},
		{Name: "XBIG", Args: func(e *wire.Encoder) { e.SP().Atom(big) }},
		{Name: "NOOP"},
	} {
		res, err := s.Run(ctx, cmd)
		if err != nil || res.Status.Kind != codec.StatusOK {
			t.Fatalf("command %d (%s): %v %+v", i, cmd.Name, err, res)
		}
		if session.HeldEncoder(s) {
			t.Fatalf("after command %d (%s): the session still holds its Encoder", i, cmd.Name)
		}
	}
}

// slowWriteConn passes each write to the connection, then, for a write of
// more than over bytes, returns only once released is closed: the writer
// is slow to run again after its bytes went out.
type slowWriteConn struct {
	net.Conn
	over     int
	released <-chan struct{}
}

func (c *slowWriteConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if len(p) > c.over {
		<-c.released
	}
	return n, err
}

// TestAnswerBeforeWriteReturns: a command with an argument larger than
// the session's write buffer goes to the connection from inside the
// encoder's WriteTo; a server may answer it before that write returns.
// The answer is the command's, not a forged one: the session must
// complete the command and go on, where it used to abort with "tagged OK
// for XBIG before the command was sent" (TestReleasesEncoder failed so,
// once in two runs of the suite on a loaded machine). The write is held
// until the answer, and an untagged line after it, have been read.
func TestAnswerBeforeWriteReturns(t *testing.T) {
	conn := fake(t, answerEach("* OK marker\r\n"))
	released := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(released) }) }
	defer release()
	marker := make(chan struct{}, 1)
	ctx := hangCtx(t)
	s, err := session.Open(ctx, &slowWriteConn{Conn: conn, over: 32 << 10, released: released}, &session.Options{
		OnUnsolicited: func(r codec.Response) {
			if st, ok := r.(*codec.Status); ok && string(st.Text) == "marker" {
				select {
				case marker <- struct{}{}:
				default:
				}
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	big := strings.Repeat("a", 64<<10)
	errc := make(chan error, 1)
	go func() {
		_, err := s.Run(ctx, &session.Command{Name: "XBIG", Args: func(e *wire.Encoder) { e.SP().Atom(big) }})
		errc <- err
	}()
	// The answer is read while the write that carried the command has
	// not returned: wait for the line after it, or for the session's end.
	for waiting := true; waiting; {
		select {
		case <-marker:
			waiting = false
		case <-ctx.Done():
			t.Fatal("no answer read")
		case <-time.After(5 * time.Millisecond):
			if err := s.Err(); err != nil {
				release()
				t.Fatalf("the session ended on the answer: %v", err)
			}
		}
	}
	release()
	if err := <-errc; err != nil {
		t.Fatalf("XBIG: %v", err)
	}
	if _, err := s.Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
		t.Fatalf("NOOP after it: %v", err)
	}
}
