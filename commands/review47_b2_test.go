package commands_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// TestReview47BAppendManyFirstOpenError: an error of the first message's
// Open (AppendMany's own checks, ErrTooBig against APPENDLIMIT, or the
// caller's Open failing), which comes before any byte of the command is
// written, leaves the command not sent: the error matches
// session.ErrNotSent and the Open's error, not ErrAborted; the server
// never sees an APPEND, and a NOOP after it runs. It used to abort the
// session (ErrWriteCut), the command's start ("A1 APPEND INBOX ") being in
// the write buffer when the encoder came to the Open. Under both a
// context that cannot end (Open called on the writer's goroutine) and one
// that can (Open on its own). A later message's Open error still aborts
// the session (Second): the command is half on the wire. The library's
// defaults (the server's APPENDLIMIT=10 is its own). So does the first
// message's when the mailbox name goes as a synchronizing literal
// (SyncMailbox: a name of 1100 bytes, past a quoted string's 1024, to a
// server without LITERAL+): the command waits for the "+" before the Open
// is called (AppendMessage.Open's doc says so).
func TestReview47BAppendManyFirstOpenError(t *testing.T) {
	errOpen := errors.New("the message cannot be opened")
	for _, tc := range []struct {
		name   string
		second bool // a message before the one opened
		sync   bool // the mailbox name goes as a synchronizing literal
		open   func() (io.Reader, int64, error)
		want   error
	}{
		{"Error", false, false, func() (io.Reader, int64, error) { return nil, 0, errOpen }, errOpen},
		{"TooBig", false, false, func() (io.Reader, int64, error) { return strings.NewReader("0123456789ab"), 12, nil }, commands.ErrTooBig},
		{"Negative", false, false, func() (io.Reader, int64, error) { return strings.NewReader(""), -1, nil }, nil},
		{"Second", true, false, func() (io.Reader, int64, error) { return nil, 0, errOpen }, errOpen},
		{"SyncMailbox", false, true, func() (io.Reader, int64, error) { return nil, 0, errOpen }, errOpen},
	} {
		for _, cancelable := range []bool{false, true} {
			name := tc.name + map[bool]string{false: "/Background", true: "/Cancelable"}[cancelable]
			t.Run(name, func(t *testing.T) {
				review47BFirstOpenError(t, tc.second, tc.sync, cancelable, tc.open, tc.want)
			})
		}
	}
}

func review47BFirstOpenError(t *testing.T, second, sync, cancelable bool, open func() (io.Reader, int64, error), want error) {
	client, server := transport.Pipe()
	served := make(chan struct{})
	var sawAppend atomic.Bool
	go func() {
		defer close(served)
		defer server.Close()
		plus := " LITERAL+"
		if sync {
			plus = ""
		}
		server.Write([]byte("* PREAUTH [CAPABILITY IMAP4rev1 MULTIAPPEND" + plus + " APPENDLIMIT=10] ready\r\n"))
		r := bufio.NewReader(server)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if strings.Contains(line, "APPEND") {
				sawAppend.Store(true)
				if strings.HasSuffix(line, "}\r\n") {
					server.Write([]byte("+ go on\r\n"))
				}
				io.Copy(io.Discard, r)
				return
			}
			tag, _, _ := strings.Cut(line, " ")
			server.Write([]byte(tag + " OK done\r\n"))
		}
	}()
	t.Cleanup(func() { client.Close(); server.Close(); <-served })
	s, err := session.Open(context.Background(), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cl := commands.New(s)
	ctx := context.Background()
	if cancelable {
		c, cancel := context.WithCancel(ctx)
		defer cancel()
		ctx = c
	}
	msgs := []commands.AppendMessage{{Open: open}}
	if second {
		msgs = append([]commands.AppendMessage{{R: strings.NewReader("first"), Size: 5}}, msgs...)
	}
	mailbox := "INBOX"
	if sync {
		mailbox = strings.Repeat("m", 1100)
	}
	_, err = cl.AppendMany(ctx, mailbox, msgs)
	if want != nil && !errors.Is(err, want) {
		t.Fatalf("AppendMany: %v; want the Open's error (%v)", err, want)
	}
	if second || sync {
		if !errors.Is(err, session.ErrWriteCut) || errors.Is(err, session.ErrNotSent) {
			t.Fatalf("AppendMany: %v; want the session aborted, the command cut", err)
		}
		return
	}
	if !errors.Is(err, session.ErrNotSent) || errors.Is(err, session.ErrAborted) {
		t.Fatalf("AppendMany: %v; want not sent, the session kept", err)
	}
	if err := cl.Noop(context.Background()); err != nil {
		t.Fatalf("NOOP after the APPEND not sent: %v", err)
	}
	if sawAppend.Load() || s.Err() != nil {
		t.Fatalf("the server saw the APPEND (%v), or the session ended: %v", sawAppend.Load(), s.Err())
	}
}
