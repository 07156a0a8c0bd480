package commands_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/faultrelay"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// rs39Client logs in through the relay with the library's defaults.
func rs39Client(t testing.TB, r *faultrelay.Relay) *commands.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := transport.Dial(ctx, r.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := commands.Open(ctx, conn, &auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Session().Close() })
	if err := c.Login(ctx, testserver.Alice, testserver.Password); err != nil {
		t.Fatal(err)
	}
	return c
}

// rs39BigMsg is a message of about size bytes of incompressible text.
func rs39BigMsg(i, size int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: a@example.org\r\nTo: b@example.org\r\nSubject: big %d\r\nMessage-ID: <zz%d-%d@x>\r\n\r\n", i, i, time.Now().UnixNano())
	// Lines of base64 of random bytes: a block of 256 KiB of them made
	// once, then copied to the size. DEFLATE (COMPRESS) looks back 32 KiB
	// at most, so the repeats do not compress. Encoding all 20 MiB, a
	// line at a time, took seconds under -race.
	const blockLines = 3360 // 78 bytes each: 262,080
	raw := make([]byte, 57*blockLines)
	rand.NewChaCha8([32]byte{byte(i), byte(i >> 8), byte(i >> 16), byte(i >> 24)}).Read(raw)
	block := make([]byte, 78*blockLines)
	for l := range blockLines {
		o := block[78*l:]
		base64.StdEncoding.Encode(o[:76], raw[57*l:57*l+57])
		o[76], o[77] = '\r', '\n'
	}
	lines := max(size-b.Len()+77, 0) / 78
	out := make([]byte, b.Len()+78*lines)
	n := copy(out, b.Bytes())
	for n < len(out) {
		n += copy(out[n:], block)
	}
	_ = strings.Repeat
	return out
}

func rs39BigMailbox(t *testing.T, n, size int) string {
	name := fmt.Sprintf("zz-%s-%d", sanitize(t.Name()), time.Now().UnixNano())
	var msgs [][]byte
	for i := 0; i < n; i++ {
		msgs = append(msgs, rs39BigMsg(i, size))
	}
	if err := dvServer(t).SeedMailbox(testserver.Alice, name, msgs); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestReview39RMoveFallbackExpungeAnswerLost: Move's fallback (a server without
// MOVE: the relay hides it from Dovecot) sends UID EXPUNGE, the server
// expunges, and the connection dies before the answer comes (the server
// killed, or the link lost, at that moment). Move returns a
// *MoveIncompleteError that says "messages copied but not removed from
// the source ... left flagged \Deleted in the source: UID 1:5", whose doc
// says "the messages are in both mailboxes"; but they are in the
// destination only. A caller that trusts it and rolls the move back by
// expunging the copies loses the mail. An answer that never came is
// unknown, and should be said so (as session's doc has it: any error of a
// command that was started means it may have run).
func TestReview39RMoveFallbackExpungeAnswerLost(t *testing.T) {
	src := dvMailbox(t, testserver.Alice, 5)
	dst := dvMailbox(t, testserver.Alice, 0)
	r := faultrelay.New(t, dvServer(t).PlainAddr)
	r.Update(func(h *faultrelay.Hooks) {
		h.Rewrite = append(h.Rewrite, [2]string{" MOVE", " XMOV"})
	})
	c := rs39Client(t, r)
	if c.Session().HasCap("MOVE") || !c.Session().HasCap("UIDPLUS") {
		t.Fatal("the relay did not hide MOVE")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.Select(ctx, src, nil); err != nil {
		t.Fatal(err)
	}
	r.Update(func(h *faultrelay.Hooks) {
		h.OnS2C = func(p []byte) string {
			if bytes.Contains(p, []byte(" EXPUNGE")) { // the UID EXPUNGE's answer
				return "cut"
			}
			return ""
		}
	})
	_, err := c.Move(ctx, commands.UIDRange(1, 0), dst)
	var mi *commands.MoveIncompleteError
	if !errors.As(err, &mi) {
		t.Fatalf("Move: %v; want a *MoveIncompleteError", err)
	}
	time.Sleep(300 * time.Millisecond)
	c2 := dvClient(t, testserver.Alice, nil)
	sst, err2 := c2.Status(ctx, src, commands.StatusMessages)
	dst2, err3 := c2.Status(ctx, dst, commands.StatusMessages)
	if err2 != nil || err3 != nil {
		t.Fatal(err2, err3)
	}
	t.Logf("source %d, destination %d messages; Move said: %v", sst.Messages, dst2.Messages, err)
	if sst.Messages == 0 && strings.Contains(err.Error(), "not removed from the source") && !strings.Contains(err.Error(), "may") {
		t.Fatalf("the move was done (source empty, destination %d), but the error says %q: an unknown outcome reported as not done", dst2.Messages, err)
	}
}

// TestReview39RReplaceFallbackExpungeAnswerLost is the same for Replace's
// fallback (Dovecot 2.3 has no REPLACE): the old message is expunged, the
// answer is lost, and the *ReplaceIncompleteError says "both are in their
// mailboxes" with Deleted set, while the old one is gone.
func TestReview39RReplaceFallbackExpungeAnswerLost(t *testing.T) {
	mb := dvMailbox(t, testserver.Alice, 1)
	r := faultrelay.New(t, dvServer(t).PlainAddr)
	c := rs39Client(t, r)
	if c.Session().HasCap("REPLACE") {
		t.Skip("the server has REPLACE")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	r.Update(func(h *faultrelay.Hooks) {
		h.OnS2C = func(p []byte) string {
			if bytes.Contains(p, []byte(" EXPUNGE")) {
				return "cut"
			}
			return ""
		}
	})
	msg := []byte("From: a@example.org\r\nSubject: new draft\r\n\r\nnew\r\n")
	_, err := c.Replace(ctx, commands.UIDs(1), mb, bytes.NewReader(msg), int64(len(msg)), nil)
	var ri *commands.ReplaceIncompleteError
	if !errors.As(err, &ri) {
		t.Fatalf("Replace: %v; want a *ReplaceIncompleteError", err)
	}
	time.Sleep(300 * time.Millisecond)
	c2 := dvClient(t, testserver.Alice, nil)
	ms, err2 := c2.Examine(ctx, mb)
	if err2 != nil {
		t.Fatal(err2)
	}
	t.Logf("mailbox holds %d messages; Replace said: %v (Deleted %v)", ms.Exists, err, ri.Deleted)
	if ms.Exists == 1 && !strings.Contains(err.Error(), "may") {
		t.Fatalf("the replace was done (the old message is gone), but the error says %q: an unknown outcome reported as not done", err)
	}
}

// TestReview39RQueuedAppendAbortNotSent: two goroutines append to one Client
// (the docs say methods are safe for concurrent use and pipelined). The
// network freezes while the first, a 20 MiB message, is mid-literal; the
// second (a 17-byte message) waits for its turn to be written, not a
// byte of it sent. Then the server dies (the connection is cut). The
// second Append returns the first one's *AbortError, "wire: literal
// body (4194252 of 20971569 bytes sent): ...", which names a literal it
// never had, and does not match session.ErrNotSent: by the docs ("Any
// other error of a command that was started means it may have run") its
// message may have been stored, so a careful caller cannot retry it
// without risking a duplicate, though it certainly was not sent.
func TestReview39RQueuedAppendAbortNotSent(t *testing.T) {
	mb := dvMailbox(t, testserver.Alice, 0)
	r := faultrelay.New(t, dvServer(t).PlainAddr)
	c := rs39Client(t, r)
	r.Freeze()
	big := rs39BigMsg(1, 20<<20)
	errA := make(chan error, 1)
	go func() {
		_, err := c.Append(context.Background(), mb, bytes.NewReader(big), int64(len(big)), nil)
		errA <- err
	}()
	time.Sleep(500 * time.Millisecond) // A is blocked mid-literal
	small := []byte("Subject: x\r\n\r\nx\r\n")
	errB := make(chan error, 1)
	go func() {
		_, err := c.Append(context.Background(), mb, bytes.NewReader(small), int64(len(small)), nil)
		errB <- err
	}()
	time.Sleep(500 * time.Millisecond) // B waits for its turn to write
	r.Cut()
	ea, eb := <-errA, <-errB
	t.Logf("A (mid-literal): %v", ea)
	t.Logf("B (never written): %v", eb)
	if !errors.Is(eb, session.ErrNotSent) {
		t.Fatalf("the queued APPEND, of which no byte was sent, returned %v: not a *session.NotSentError, so it may have run by the docs", eb)
	}
}

// TestReview39RStartTLSDeadlineMisreported: the context of StartTLS ends during
// the TLS handshake (the server, or the network, froze after STARTTLS's
// OK). StartTLS returns the bare context error, which the docs
// (docs/errors.md "In code", docs/session.md "Cancellation") say means
// that the command is still in flight and the session goes on; but the
// handshake, run on the reader goroutine with that same ended context,
// fails and the session is aborted: the next command fails with an
// *AbortError. Either the session goes on, or the error says it is over.
// Fixed: the handshake is not tied to the caller's context (transport's
// own bound, or the caller's deadline when later), and the session goes
// on once the network does.
func TestReview39RStartTLSDeadlineMisreported(t *testing.T) {
	r := faultrelay.New(t, dvServer(t).PlainAddr)
	conn, err := transport.Dial(context.Background(), r.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := commands.Open(context.Background(), conn, &auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Session().Close() })
	r.Update(func(h *faultrelay.Hooks) {
		h.OnC2S = faultrelay.After("STARTTLS\r\n", 1, "freeze") // the ClientHello is held
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err = c.StartTLS(ctx, dvServer(t).TLSConfig())
	if err == nil {
		t.Fatal("StartTLS through a frozen network succeeded")
	}
	if errors.Is(err, session.ErrAborted) {
		return // says the session is over: fine
	}
	r.Thaw()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if nerr := c.Noop(ctx2); nerr != nil {
		t.Fatalf("StartTLS returned %v (not session.ErrAborted: the session goes on, by the docs), yet the next command fails: %v", err, nerr)
	}
}
