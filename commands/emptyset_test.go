package commands_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/connkit"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// selectedServer starts a server over transport.Pipe that announces caps,
// answers SELECT with the given EXISTS and every other command with what
// answer returns for it (before its tagged OK), and returns a Client with
// INBOX selected, the session opened with the defaults, and the commands
// the server got (SELECT included), in order.
func selectedServer(t *testing.T, caps string, exists int, answer func(cmd string) string) (*commands.Client, context.Context, func() []string) {
	t.Helper()
	return selectedServerWith(t, nil, caps, exists, answer)
}

// selectedServerWith is selectedServer with the session opened with opts.
func selectedServerWith(t *testing.T, opts *session.Options, caps string, exists int, answer func(cmd string) string) (*commands.Client, context.Context, func() []string) {
	t.Helper()
	return selectedServerStream(t, opts, caps, exists, func(cmd string) io.Reader { return strings.NewReader(answer(cmd)) })
}

// selectedServerStream is selectedServerWith with each answer read from
// the reader answer returns and written, then the tagged OK, through a
// 64 KiB buffer: an answer that fits it with its OK goes out in one
// Write, as selectedServerWith's strings did before, and a flood of many megabytes from a
// reader that makes it as it goes (hostile.Repeat) is never held whole
// by the test (under -race each fresh heap page costs shadow memory and
// page faults too: a 72 MB flood built up front, and copied twice more
// into one []byte with its OK, cost more than the client reading it).
func selectedServerStream(t *testing.T, opts *session.Options, caps string, exists int, answer func(cmd string) io.Reader) (*commands.Client, context.Context, func() []string) {
	t.Helper()
	client, serverEnd := transport.Pipe()
	// The test's context ends when the connection moved no byte for 20
	// s, or after 10 minutes: a hang is caught, and a slow machine (under
	// -race and a load of 20, TestLongAnswers' four answers of 1.4-2.6 MB
	// once took past the 20 s this context had in all) is no hang.
	server := &connkit.Counting{Conn: serverEnd}
	var mu sync.Mutex
	var got []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		server.Write([]byte("* PREAUTH [CAPABILITY " + caps + "] ready\r\n"))
		r := bufio.NewReader(server)
		w := bufio.NewWriterSize(server, 64<<10)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(strings.TrimRight(l, "\r\n"), " ")
			mu.Lock()
			got = append(got, rest)
			mu.Unlock()
			if strings.HasPrefix(rest, "SELECT") {
				server.Write([]byte(fmt.Sprintf("* %d EXISTS\r\n", exists) + tag + " OK [READ-WRITE] done\r\n"))
				continue
			}
			io.Copy(w, answer(rest))
			w.WriteString(tag + " OK done\r\n")
			w.Flush()
		}
	}()
	ctx, cancel := context.WithTimeout(progressCtx(t, 20*time.Second, server.Moved), 10*time.Minute)
	s, err := session.Open(ctx, client, opts)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); <-done; cancel() })
	c := commands.New(s)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	return c, ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

// TestEmptySetSendsNothing: a search that found nothing gives an empty
// set, and IMAP has no empty set to send (the encoder refuses one). Fetch,
// FetchAll, Partial, Store, Copy, Move and Expunge with an empty set send
// nothing and return an empty result, not an error (as MailKit does), for
// sequence numbers and UIDs, with and without MOVE and UIDPLUS; an empty
// UID set for Expunge never becomes a plain EXPUNGE. The server records
// every line it gets: only SELECT and the final NOOP may arrive.
func TestEmptySetSendsNothing(t *testing.T) {
	for _, caps := range []string{"IMAP4rev1 UIDPLUS MOVE", "IMAP4rev1"} {
		t.Run(caps, func(t *testing.T) {
			c, ctx, got := selectedServer(t, caps, 3, func(string) string { return "" })
			for _, set := range []commands.Set{commands.SeqNums(), commands.UIDs(), commands.SetOf(true, codec.SeqSet{})} {
				for m, err := range c.Fetch(ctx, set, &commands.FetchItems{Flags: true}) {
					t.Fatalf("Fetch of %+v yielded %v, %v", set, m, err)
				}
				if ms, err := c.FetchAll(ctx, set, nil); err != nil || len(ms) != 0 {
					t.Fatalf("FetchAll of %+v: %v, %v", set, ms, err)
				}
				if b, err := c.Partial(ctx, set, commands.FetchSection{}, 0, 10); err != nil || b != nil {
					t.Fatalf("Partial of %+v: %q, %v", set, b, err)
				}
				if r, err := c.Store(ctx, set, commands.AddFlags, []string{`\Seen`}, nil); err != nil || r == nil || len(r.Messages) != 0 || !r.Modified.IsEmpty() || r.Modified.UID != set.UID {
					t.Fatalf("Store of %+v: %+v, %v", set, r, err)
				}
				if r, err := c.Copy(ctx, set, "Archive"); err != nil || r == nil || !r.Src.IsEmpty() || !r.Dst.IsEmpty() {
					t.Fatalf("Copy of %+v: %+v, %v", set, r, err)
				}
				if r, err := c.Move(ctx, set, "Archive"); err != nil || r == nil || !r.Src.IsEmpty() {
					t.Fatalf("Move of %+v: %+v, %v", set, r, err)
				}
				if set.UID {
					if r, err := c.Expunge(ctx, &set); err != nil || r == nil || len(r.SeqNums) != 0 || !r.Vanished.IsEmpty() {
						t.Fatalf("Expunge of %+v: %+v, %v", set, r, err)
					}
				}
			}
			if err := c.Noop(ctx); err != nil {
				t.Fatal(err)
			}
			if got := got(); len(got) != 2 || !strings.HasPrefix(got[0], "SELECT") || got[1] != "NOOP" {
				t.Fatalf("the server got %q; want SELECT and NOOP alone", got)
			}
		})
	}
}

// TestStarInEmptyMailboxSendsNothing: in a mailbox the session knows to
// be empty, a set of sequence numbers with "*" (SeqRange(1, 0), all
// messages) names no message, and servers answer it with BAD (Dovecot:
// "Invalid messageset"): Fetch, Store, Copy and Move send nothing, as
// for an empty set. UID sets with "*" (valid in an empty mailbox) and
// sequence numbers without "*" still go to the server, and so does the
// same set once the mailbox holds a message.
func TestStarInEmptyMailboxSendsNothing(t *testing.T) {
	c, ctx, got := selectedServer(t, "IMAP4rev1 UIDPLUS MOVE", 0, func(cmd string) string {
		if cmd == "NOOP" {
			return "* 1 EXISTS\r\n"
		}
		return ""
	})
	for _, set := range []commands.Set{commands.SeqRange(1, 0), commands.SeqNums(0), commands.SeqRange(3, 0)} {
		for m, err := range c.Fetch(ctx, set, &commands.FetchItems{Flags: true}) {
			t.Fatalf("Fetch of %v yielded %v, %v", set.Nums, m, err)
		}
		if r, err := c.Store(ctx, set, commands.AddFlags, []string{`\Seen`}, nil); err != nil || r == nil || len(r.Messages) != 0 {
			t.Fatalf("Store of %v: %+v, %v", set.Nums, r, err)
		}
		if r, err := c.Copy(ctx, set, "Archive"); err != nil || r == nil || !r.Src.IsEmpty() {
			t.Fatalf("Copy of %v: %+v, %v", set.Nums, r, err)
		}
		if r, err := c.Move(ctx, set, "Archive"); err != nil || r == nil || !r.Src.IsEmpty() {
			t.Fatalf("Move of %v: %+v, %v", set.Nums, r, err)
		}
	}
	for range c.Fetch(ctx, commands.UIDRange(1, 0), nil) {
	}
	for range c.Fetch(ctx, commands.SeqNums(1), nil) {
	}
	if err := c.Noop(ctx); err != nil { // * 1 EXISTS
		t.Fatal(err)
	}
	for range c.Fetch(ctx, commands.SeqRange(1, 0), nil) {
	}
	want := []string{"SELECT INBOX", "UID FETCH 1:* (UID)", "FETCH 1 (UID)", "NOOP", "FETCH 1:* (UID)"}
	if g := got(); strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the server got\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
}

// TestFetchYieldsFlagUpdate: a flag change another client made, sent by
// the server in the middle of a FETCH for a message of its set, is
// yielded as a Message of its own with only its items (Fetch's doc says
// so), not merged into another nor dropped; its nil Envelope's
// DecodedSubject is "" rather than a panic.
func TestFetchYieldsFlagUpdate(t *testing.T) {
	env := `("Wed, 2 Jul 2026 01:01:07 +0200" "hello" NIL NIL NIL NIL NIL NIL NIL NIL)`
	c, ctx, _ := selectedServer(t, "IMAP4rev1", 2, func(string) string {
		return "* 1 FETCH (UID 11 ENVELOPE " + env + ")\r\n* 1 FETCH (FLAGS (\\Seen))\r\n" +
			"* 2 FETCH (UID 12 ENVELOPE " + env + ")\r\n"
	})
	var got []string
	for m, err := range c.Fetch(ctx, commands.SeqRange(1, 2), &commands.FetchItems{UID: true, Envelope: true}) {
		if err != nil {
			t.Fatal(err)
		}
		subject, err := m.Envelope.DecodedSubject()
		got = append(got, fmt.Sprintf("%d %d %q %v %v", m.SeqNum, m.UID, subject, err, m.Flags))
	}
	want := []string{`1 11 "hello" <nil> []`, `1 0 "" <nil> [\Seen]`, `2 12 "hello" <nil> []`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("messages\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
