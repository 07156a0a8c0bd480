package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// slowSource is an import's message file on a mount that stalls
// (NFS, FUSE): its first Read gives 100 bytes, the next waits 300 ms
// before failing, whatever the APPEND's context does. started is closed
// when that second Read begins, returning when it is about to return.
type slowSource struct {
	reads     int
	started   chan struct{}
	returning chan struct{}
}

func (s *slowSource) Read(p []byte) (int, error) {
	s.reads++
	if s.reads == 1 {
		return copy(p, strings.Repeat("x", 100)), nil
	}
	close(s.started)
	time.Sleep(300 * time.Millisecond)
	close(s.returning)
	return 0, errors.New("stale file handle")
}

// TestImportCancelledAppendReaderRace (found by review): since
// 54d4656 a message body's Read runs on a goroutine of the session's
// (pump) that outlives Append once the context has ended and writeGrace
// (50 ms) has passed. The appender (import, copy) was not written for
// that: appender.send closed the item's lazyReader in its defer (l.closed,
// l.r) and read the srcReader's "abandoned" flag while the pump was still
// in lazyReader.Read / srcReader.Read, which then wrote l.left, l.closed,
// l.r and *failed: data races (-race), and "abandoned", set after send
// had decided, was lost (the group was left pending, not "not appended").
// Now send decides from the error (session.ErrWriteCut: the APPEND was
// cut off while written), and heldReader leaves the Close to the Read
// still running. Run with -race.
//
// It runs in a testing/synctest bubble (the connection is a
// transport.Pipe): writeGrace and the source's 300 ms pass on the
// bubble's clock, and the test waits for the pump to come out of the
// source's Read by events (the Read returning, then synctest.Wait until
// the pump has done what it does after it), not for a second of wall
// time after which it went on whether or not the pump had come out.
func TestImportCancelledAppendReaderRace(t *testing.T) {
	synctest.Test(t, testImportCancelledAppendReaderRace)
}

func testImportCancelledAppendReaderRace(t *testing.T) {
	client, server := transport.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		server.Write([]byte("* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n"))
		io.Copy(io.Discard, bufio.NewReader(server)) // the literal, never complete
	}()
	s, err := session.Open(context.Background(), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close(); server.Close(); <-done }()
	a := newAppender(commands.New(s), "INBOX", true)
	src := &slowSource{started: make(chan struct{}), returning: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-src.started
		cancel()
	}()
	items := []appendItem{{r: &lazyReader{open: func() io.Reader { return src }, left: 1000}, size: 1000}}
	_, err = a.send(ctx, items)
	if err == nil {
		t.Fatal("send: no error")
	}
	// The pump is still in the source's Read; let it come out, and do
	// what it does after (lazyReader's and heldReader's bookkeeping, the
	// writes -race looks at), bounded by a minute of the bubble's clock.
	select {
	case <-src.returning:
	case <-time.After(time.Minute):
		t.Fatal("the source's Read never returned")
	}
	synctest.Wait()
	// The APPEND was cut off in its literal: nothing of it landed, and
	// send says so (*notAppendedError), as it did before 54d4656. With
	// the flag set after send decided, the group was left "answer not
	// known" (pending), which a later run takes for landed once
	// anything else moves UIDNEXT.
	var na *notAppendedError
	if !errors.As(err, &na) {
		t.Errorf("send: %v: not a *notAppendedError (a cut APPEND left pending)", err)
	}
}
