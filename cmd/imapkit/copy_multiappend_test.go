//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/leakcheck"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"

	"github.com/imapkit/imapkit/internal/hostile"
)

// TestCopyAbandonedMultiappend: the source fails in the middle of
// the second message of a MULTIAPPEND group. The APPEND is abandoned
// mid-way and the destination connection closed (nothing of the group
// lands, as for the vanished message of 362cfcd), but only a vanishedError
// or a NO/BAD was a notAppendedError: the group stayed pending, a mail
// delivered to the destination before the next run moved its UIDNEXT, and
// the next run took the group for landed: its three messages were never
// copied, and the run exited 0. A message that cannot be read whole once
// its APPEND began now drops the pending record (srcReader).
func TestCopyAbandonedMultiappend(t *testing.T) {
	t.Parallel()
	bodies := []string{
		"From: a@example.com\r\nSubject: one\r\n\r\nfirst\r\n",
		"From: b@example.com\r\nSubject: two\r\n\r\n" + strings.Repeat("second message line\r\n", 2000),
		"From: c@example.com\r\nSubject: three\r\n\r\nthird\r\n",
	}
	var cut atomic.Bool
	cut.Store(true)
	// The body of UID 2 is sent half way, the connection dropped (a
	// network error, a server restart), once.
	src, err := hostile.Listen(scriptedSourceWith(`(("" "/")) NIL NIL`, []string{`() "/" INBOX`}, map[string][]string{"INBOX": bodies},
		sourceOpts{cut: func(uid int) bool { return uid == 2 && cut.CompareAndSwap(true, false) }}))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b, cf := dovecot(t, 0)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	setEnv(t, "IMAPKIT_PASSWORD", testserver.Password)
	_, bURL := urls(b)
	args := []string{"copy", "imap://alice@" + src.Addr(), bURL, "INBOX", "--dst-ca-file", cf[1], "--state-dir", t.TempDir(), "--timeout", "20s", "--quiet"}
	code, out, errs := runCLI(t, "", args...)
	t.Logf("first run: exit %d %q %q", code, out, errs)
	bc := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
	if n := len(mailOf(t, bc, "INBOX")); n != 0 {
		t.Fatalf("after the first run the destination holds %d messages; the scenario wants the group abandoned (0)", n)
	}
	// Ordinary mail reaches the destination's INBOX meanwhile.
	if _, err := bc.AppendBytes(t.Context(), "INBOX", []byte("From: x@example.com\r\nSubject: delivered\r\n\r\nhi\r\n"), nil); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runCLI(t, "", args...)
	got := mailOf(t, bc, "INBOX")
	if len(got) != 4 {
		t.Fatalf("second run: exit %d %q %q; the destination holds %d messages; want the source's 3 and the delivered one", code, out, errs, len(got))
	}
}

// TestCopyExpungedFirstOfMultiappendGroup: the first message of a
// MULTIAPPEND group is expunged on the source after copy fetched the
// batch's metadata but before its body. Since 7c86b81/eb1e3d8 the first
// message's Open error (here the CLI's vanishedError) leaves the APPEND not
// sent and the destination session open (session.ErrNotSent), exactly the
// situation copy already handles without MULTIAPPEND
// (TestCopyExpungedMidCopy: skipped once the source confirms it
// gone, exit 0). But appender.send still takes any vanishedError of
// AppendMany for an abandoned command: it sets a.closed and says "the
// APPEND of its group was abandoned mid-way ... and the connection to the
// destination closed: run again", neither true now, and copy's skip path
// (errors.As(err, &gone) && !ap.closed) is refused: the run fails.
func TestCopyExpungedFirstOfMultiappendGroup(t *testing.T) {
	t.Parallel()
	a, cf := dovecot(t, 5)
	b := testserver.StartT(t, nil)
	_, aURL := urls(a)
	_, bURL := urls(b)
	setEnv(t, "IMAPKIT_DST_PASSWORD", testserver.Password)
	ac := client(t, a.TLSAddr, a, testserver.Alice, testserver.Password)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := ac.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	args := []string{"copy", aURL, bURL, "INBOX", "--ca-file", cf[1], "--dst-ca-file", writeCA(t, b), "--state-dir", t.TempDir(), "--timeout", "20s", "--quiet"}
	done := false
	setTestHook(t, func(s string) error {
		if s == "pending" && !done {
			done = true
			if _, err := ac.Store(ctx, commands.UIDs(1), commands.AddFlags, []string{`\Deleted`}, nil); err != nil {
				return err
			}
			if _, err := ac.Expunge(ctx, nil); err != nil {
				return err
			}
		}
		return nil
	})
	t.Cleanup(func() { setTestHook(t, nil) })
	code, out, errs := runCLI(t, "", args...)
	setTestHook(t, nil)
	got := mailOf(t, client(t, b.TLSAddr, b, testserver.Alice, testserver.Password), "INBOX")
	t.Logf("exit %d %q %q; %d messages on the destination", code, out, errs, len(got))
	if code != 0 || len(got) != 4 || !strings.Contains(errs, "UID 1 was expunged on the source during the copy: skipped") {
		t.Errorf("the first message of a MULTIAPPEND group expunged during the copy (its APPEND not sent, the destination kept): exit %d, %d of the 4 remaining messages copied, stderr %q", code, len(got), errs)
	}
}

// closeCounter is a message's reader that counts its Closes.
type closeCounter struct {
	io.Reader
	closed *atomic.Int32
}

func (c closeCounter) Close() error { c.closed.Add(1); return nil }

// TestOpenOutlivesAppendMany (found by review): the CLI's context
// can always end (signal.NotifyContext), so AppendMany runs each
// message's Open on a goroutine of its own (the session's runOpen); when
// the context ends while an Open blocks (copy's pulledBody.open in the
// source FETCH's next) and the grace passes, AppendMany returns with that
// Open still running. appender.send's Open appended to held from that
// goroutine after send's deferred loop over held (a data race, and the
// reader it opened never closed), and settle did not know of it: copyBatch
// then called the FETCH iterator's stop while its next still ran (iter.Pull
// forbids it). Here an item's open cancels the context and blocks until
// released: send must return with settle having it to wait for, and once
// it is released and settle returns, the open is over and what it opened
// closed, no goroutine left. First: the group's first message (the
// APPEND not sent, the destination's session kept); Second: a later one
// (the session aborted). SourceAborted: a first message's Open failing
// with an error that matches session.ErrAborted (the source's) leaves
// the destination's session open, and send must not take it for closed.
// Default options; a real Dovecot destination (MULTIAPPEND).
func TestOpenOutlivesAppendMany(t *testing.T) {
	b := testserver.StartT(t, nil)
	quick := func() (io.Reader, int64, error) { return strings.NewReader("Subject: x\r\n\r\nx\r\n"), 17, nil }
	for _, tc := range []struct {
		name    string
		blocked int // the index of the item whose open blocks
	}{{"First", 0}, {"Second", 1}} {
		t.Run(tc.name, func(t *testing.T) {
			c := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
			lc := leakcheck.Start()
			a := newAppender(c, "INBOX", false)
			if !a.multi {
				t.Fatal("the destination offers no MULTIAPPEND")
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			release := make(chan struct{})
			var running, finished atomic.Bool
			var closed atomic.Int32
			blocking := func() (io.Reader, int64, error) {
				running.Store(true)
				cancel()
				<-release
				finished.Store(true)
				return closeCounter{strings.NewReader("Subject: y\r\n\r\ny\r\n"), &closed}, 17, nil
			}
			items := []appendItem{{open: quick}, {open: quick}}
			items[tc.blocked].open = blocking
			_, err := a.send(ctx, items)
			if err == nil || !notAppended(err) {
				t.Fatalf("send: %v, want a group not appended", err)
			}
			if !running.Load() || finished.Load() {
				t.Fatalf("the open did not block: running %v, finished %v", running.Load(), finished.Load())
			}
			if len(a.busy) == 0 {
				t.Errorf("send returned with an open still running and nothing for settle to wait on: copyBatch's stop would end the FETCH while its next runs")
			}
			if want := tc.blocked > 0; a.closed != want {
				t.Errorf("closed %v, want %v (the destination's session ended: %v)", a.closed, want, c.Session().Err())
			}
			close(release)
			a.settle()
			if !finished.Load() {
				t.Errorf("settle returned before the open")
			}
			if n := closed.Load(); n != 1 {
				t.Errorf("the reader the late open returned was closed %d times, want 1", n)
			}
			if err := goroutinesLeft(lc); err != nil {
				t.Errorf("left after settle: %v", err)
			}
		})
	}
	t.Run("FirstVanished", func(t *testing.T) {
		// The first message expunged on the source: not sent, and
		// not said abandoned mid-way with the connection closed.
		c := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
		a := newAppender(c, "INBOX", false)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, err := a.send(ctx, []appendItem{{open: func() (io.Reader, int64, error) { return nil, 0, &vanishedError{uid: 1} }}, {open: quick}})
		var gone *vanishedError
		if !errors.As(err, &gone) || !notAppended(err) || a.closed || strings.Contains(err.Error(), "closed") {
			t.Errorf("send: %v (closed %v), want not appended, the vanishedError reachable, the destination kept and not said closed", err, a.closed)
		}
	})
	t.Run("SourceAborted", func(t *testing.T) {
		c := client(t, b.TLSAddr, b, testserver.Alice, testserver.Password)
		a := newAppender(c, "INBOX", false)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		srcErr := fmt.Errorf("the source's FETCH: %w", session.ErrAborted)
		_, err := a.send(ctx, []appendItem{{open: func() (io.Reader, int64, error) { return nil, 0, srcErr }}, {open: quick}})
		if !errors.Is(err, session.ErrNotSent) || !errors.Is(err, srcErr) || !notAppended(err) {
			t.Fatalf("send: %v, want not sent, with the source's error", err)
		}
		if a.closed {
			t.Errorf("the source's ErrAborted taken for the destination's: closed, though its session goes on (%v)", c.Session().Err())
		}
		if err := c.Noop(ctx); err != nil {
			t.Errorf("NOOP on the destination after: %v", err)
		}
	})
}
