package commands_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/faultrelay"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

// TestReplace: REPLACE and UID REPLACE as RFC 8508 writes them.
func TestReplace(t *testing.T) {
	c, ctx := scripted(t, "replace/replace")
	if _, err := c.Select(ctx, "Drafts", nil); err != nil {
		t.Fatal(err)
	}
	msg := "Subject: v2\r\n\r\nhi"
	res, err := c.Replace(ctx, commands.SeqNums(2), "Drafts", strings.NewReader(msg), int64(len(msg)), &commands.AppendOptions{Flags: []string{`\Draft`}})
	if err != nil || res.UID != 3 || res.UIDValidity != 5 {
		t.Fatalf("REPLACE: %v %+v", err, res)
	}
	msg = "Subject: v3\r\n\r\nhi"
	res, err = c.Replace(ctx, commands.UIDs(3), "Grüße", strings.NewReader(msg), int64(len(msg)),
		&commands.AppendOptions{Date: time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)})
	if err != nil || res.UID != 40 {
		t.Fatalf("UID REPLACE: %v %+v", err, res)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Exists(); n != 1 {
		t.Errorf("%d messages after the replacements; want 1", n)
	}
}

// TestReplaceFallback: without REPLACE, APPEND then STORE and UID EXPUNGE
// of the old message alone; a failure after the APPEND says so.
func TestReplaceFallback(t *testing.T) {
	c, ctx := scripted(t, "replace/fallback")
	if _, err := c.Select(ctx, "Drafts", nil); err != nil {
		t.Fatal(err)
	}
	msg := "Subject: v2\r\n\r\nhi"
	res, err := c.Replace(ctx, commands.SeqNums(2), "Drafts", strings.NewReader(msg), int64(len(msg)), &commands.AppendOptions{Flags: []string{`\Draft`}})
	if err != nil || res.UID != 13 {
		t.Fatalf("Replace: %v %+v", err, res)
	}
	msg = "Subject: v3\r\n\r\nhi"
	res, err = c.Replace(ctx, commands.UIDs(13), "Drafts", strings.NewReader(msg), int64(len(msg)), nil)
	var ie *commands.ReplaceIncompleteError
	if !errors.As(err, &ie) || ie.Append.UID != 14 || res == nil || res.UID != 14 || !errors.Is(err, session.ErrNo) ||
		ie.Old != 13 || ie.Deleted || strings.Contains(err.Error(), "Deleted") {
		t.Fatalf("Replace whose STORE fails: %v %+v", err, res)
	}
	msg = "Subject: v4\r\n\r\nhi"
	_, err = c.Replace(ctx, commands.UIDs(14), "Drafts", strings.NewReader(msg), int64(len(msg)), nil)
	if !errors.As(err, &ie) || ie.Append.UID != 15 || ie.Old != 14 || !ie.Deleted ||
		!strings.Contains(err.Error(), `(UID 14, left flagged \Deleted)`) || !errors.Is(err, session.ErrNo) {
		t.Fatalf("Replace whose UID EXPUNGE fails: %v", err)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestReplaceRefused: what Replace refuses before sending anything.
func TestReplaceRefused(t *testing.T) {
	c, ctx := scripted(t, "replace/unsupported")
	if _, err := c.Select(ctx, "Drafts", nil); err != nil {
		t.Fatal(err)
	}
	msg := strings.NewReader("x")
	if _, err := c.Replace(ctx, commands.UIDs(1), "Drafts", msg, 1, nil); !errors.Is(err, commands.ErrUnsupported) {
		t.Errorf("Replace without REPLACE or UIDPLUS: %v", err)
	}
	for _, set := range []commands.Set{commands.UIDs(1, 2), commands.UIDRange(1, 3), commands.SeqRange(1, 0), commands.SavedUIDs(), {}} {
		if _, err := c.Replace(ctx, set, "Drafts", msg, 1, nil); err == nil || errors.Is(err, commands.ErrUnsupported) {
			t.Errorf("Replace of %v: %v", set, err)
		}
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestReplaceDovecot: Dovecot 2.3 has no REPLACE: the fallback replaces a
// draft by sequence number and by UID, leaving the other messages, some
// marked \Deleted, in place.
func TestReplaceDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.Alice, 3)
	if c.Session().HasCap("REPLACE") {
		t.Fatal("Dovecot offers REPLACE: this test is for the fallback")
	}
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	// Message 1 is marked \Deleted: a plain EXPUNGE would take it too.
	if _, err := c.Store(ctx, commands.UIDs(1), commands.AddFlags, []string{`\Deleted`}, nil); err != nil {
		t.Fatal(err)
	}
	draft := "Subject: draft 2\r\n\r\nsecond version\r\n"
	res, err := c.Replace(ctx, commands.SeqNums(2), mb, strings.NewReader(draft), int64(len(draft)), &commands.AppendOptions{Flags: []string{`\Draft`}})
	if err != nil || res.UID != 4 {
		t.Fatalf("Replace: %v %+v", err, res)
	}
	draft = "Subject: draft 3\r\n\r\nthird version\r\n"
	if res, err = c.Replace(ctx, commands.UIDs(4), mb, strings.NewReader(draft), int64(len(draft)), nil); err != nil || res.UID != 5 {
		t.Fatalf("Replace by UID: %v %+v", err, res)
	}
	// imaplib's CRLF normalisation, done once (the fallback's APPEND must
	// not try it again on the converted message).
	bare := "Subject: draft 4\n\nfourth version\n"
	res, err = c.Replace(ctx, commands.UIDs(5), mb, strings.NewReader(bare), int64(len(bare)), &commands.AppendOptions{NormalizeCRLF: true})
	if err != nil || res.UID != 6 {
		t.Fatalf("Replace with NormalizeCRLF: %v %+v", err, res)
	}
	got := map[uint32]string{}
	for m, err := range c.Fetch(ctx, commands.SeqRange(1, 0), &commands.FetchItems{UID: true, Envelope: true}) {
		if err != nil {
			t.Fatal(err)
		}
		got[m.UID] = string(m.Envelope.Subject)
	}
	if len(got) != 3 || got[6] != "draft 4" || got[1] == "" || got[3] == "" {
		t.Fatalf("after the replacements: %v; want UIDs 1, 3 and 6 (draft 4)", got)
	}
	fetched := 0
	for m, err := range c.Fetch(ctx, commands.UIDs(6), &commands.FetchItems{Size: true}) {
		if err != nil || m.Size != int64(len(bare)+3) {
			t.Fatalf("the normalised draft: %v, %d bytes; want %d (CRLF line ends)", err, m.Size, len(bare)+3)
		}
		fetched++
	}
	if fetched != 1 {
		t.Fatalf("FETCH of the normalised draft (UID 6) yielded %d messages; want 1", fetched)
	}
}

// TestReplaceUntaggedAppendUID: RFC 8508 section 3.4 and its examples
// send REPLACE's APPENDUID in an untagged OK, before the EXPUNGE, as MOVE
// sends COPYUID; the tagged OK carries none. Replace must report it.
func TestReplaceUntaggedAppendUID(t *testing.T) {
	c, _, ctx := litServerStart(t, "LITERAL+ UIDPLUS REPLACE", func(cmd litCmd) string {
		switch {
		case strings.Contains(cmd.Text, " SELECT "):
			return "* 4 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n" + cmd.Tag + " OK [READ-WRITE] done\r\n"
		case strings.Contains(cmd.Text, " REPLACE "):
			return "* OK [APPENDUID 1 2001] Replacement Message ready\r\n* 5 EXISTS\r\n* 4 EXPUNGE\r\n" +
				cmd.Tag + " OK Replace completed\r\n"
		}
		return ""
	})
	if _, err := c.Select(ctx, "Drafts", nil); err != nil {
		t.Fatal(err)
	}
	msg := []byte("Subject: v2\r\n\r\nhi\r\n")
	res, err := c.Replace(ctx, commands.SeqNums(4), "Drafts", bytes.NewReader(msg), int64(len(msg)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.UIDValidity != 1 || res.UID != 2001 {
		t.Fatalf("Replace reported APPENDUID %d %d; the server sent [APPENDUID 1 2001] (untagged, as RFC 8508 does)", res.UIDValidity, res.UID)
	}
}

// TestReplaceFallbackNotSelected: Replace by UID with no mailbox
// selected, on a server without REPLACE: a REPLACE would be refused with
// nothing appended; the fallback appends first and only then finds that
// it cannot flag the old message.
func TestReplaceFallbackNotSelected(t *testing.T) {
	c, s, ctx := litServerStart(t, "LITERAL+ UIDPLUS", litAppendUID())
	msg := []byte("Subject: v2\r\n\r\nhi\r\n")
	_, err := c.Replace(ctx, commands.UIDs(5), "Drafts", bytes.NewReader(msg), int64(len(msg)), nil)
	t.Logf("Replace: %v", err)
	for _, cmd := range s.commands() {
		if strings.Contains(cmd.Text, " APPEND ") {
			t.Errorf("Replace with no mailbox selected appended the new message (%q) before failing: %v", cmd.Text, err)
		}
	}
}

// TestReplaceFallbackReadOnlyDovecot: the same with the mailbox
// selected read-only (EXAMINE): the new draft is stored, the old one
// cannot be removed, and both stay.
func TestReplaceFallbackReadOnlyDovecot(t *testing.T) {
	c := dvClient(t, "alice", nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, "alice", 2)
	if _, err := c.Examine(ctx, mb); err != nil {
		t.Fatal(err)
	}
	msg := []byte("Subject: v2\r\n\r\nhi\r\n")
	_, err := c.Replace(ctx, commands.UIDs(2), mb, bytes.NewReader(msg), int64(len(msg)), nil)
	st, serr := dvClient(t, "alice", nil).Status(ctx, mb, commands.StatusMessages)
	if serr != nil {
		t.Fatal(serr)
	}
	if st.Messages != 2 {
		t.Errorf("Replace on a read-only selection: %v; the mailbox now holds %d messages (the draft was appended before the STORE was refused)", err, st.Messages)
	}
}

// TestReplaceDuringFirstSelect: one goroutine selects Drafts (the
// server holds its answer), another calls Replace meanwhile, as a caller
// that pipelines does. The REPLACE would go out after the SELECT (the
// session holds commands behind a SELECT); e23cc0f's check reads
// Session.Mailbox(), which is "" until the SELECT's OK, and refuses with a
// *session.StateError though the mailbox is being selected. The server
// answers the SELECT once Replace waits behind it (or has returned): a
// server that took 300 ms, the Replace called 100 ms after the Select,
// had on a loaded machine the Replace go first (a StateError, the test
// failed) or after the OK (no case).
func TestReplaceDuringFirstSelect(t *testing.T) {
	selIn, release := make(chan struct{}), make(chan struct{})
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	c, _, ctx := litServerStart(t, "LITERAL+ UIDPLUS REPLACE", func(cmd litCmd) string {
		switch {
		case strings.Contains(cmd.Text, " SELECT "):
			close(selIn)
			select {
			case <-release:
			case <-time.After(hangBound):
			}
			return "* 4 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n" + cmd.Tag + " OK [READ-WRITE] done\r\n"
		case strings.Contains(cmd.Text, " REPLACE "):
			return "* OK [APPENDUID 1 2001] ok\r\n* 5 EXISTS\r\n* 4 EXPUNGE\r\n" + cmd.Tag + " OK Replace completed\r\n"
		}
		return ""
	})
	sel := make(chan error, 1)
	go func() { _, err := c.Select(ctx, "Drafts", nil); sel <- err }()
	select {
	case <-selIn:
	case <-ctx.Done():
		t.Fatal("the SELECT did not reach the server")
	}
	msg := []byte("Subject: v2\r\n\r\nhi\r\n")
	type replaced struct {
		res *commands.AppendResult
		err error
	}
	rep := make(chan replaced, 1)
	go func() {
		res, err := c.Replace(ctx, commands.SeqNums(4), "Drafts", bytes.NewReader(msg), int64(len(msg)), nil)
		rep <- replaced{res, err}
	}()
	waitUntil(t, "the Replace queued behind the SELECT", func() bool {
		return len(rep) > 0 || parked("commands.(*Client).Replace", "session.(*Session).start(")
	})
	close(release)
	r := <-rep
	res, err := r.res, r.err
	if serr := <-sel; serr != nil {
		t.Fatal(serr)
	}
	if err != nil {
		t.Fatalf("Replace pipelined behind the SELECT of its mailbox: %v", err)
	}
	t.Logf("Replace: %+v", res)
}

// TestReplaceOverlongReaderDovecot: the same through Replace
// (Dovecot has no REPLACE: APPEND, then UID EXPUNGE of the old one).
func TestReplaceOverlongReaderDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	full := overlongMsg
	mb := dvMailbox(t, testserver.Alice, 1)
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	_, err := c.Replace(ctx, commands.UIDs(1), mb, strings.NewReader(string(full)), int64(len(full)-overlongExtra), nil)
	noCutMessage(t, c, mb, full, err)
}

// TestReplaceFallbackUTF8NULFake: with UTF8=ACCEPT enabled, Append
// sends the UTF8 form, a literal8, and appendMessage unwraps the nulGuard
// so that a NUL may go. Replace without REPLACE runs prepareAppend and then
// Append, which runs prepareAppend again on the reader already wrapped: a
// nulGuard in a nulGuard, of which appendMessage unwraps only the outer.
// The same streamed message that Append sends aborts the session in
// Replace's fallback.
func TestReplaceFallbackUTF8NULFake(t *testing.T) {
	c, ctx, _ := rawClient(t, "IMAP4rev1 LITERAL+ UIDPLUS ENABLE UTF8=ACCEPT", func(c rawCmd) string {
		raw := string(c.Raw)
		switch {
		case strings.Contains(raw, " ENABLE "):
			return "* ENABLED UTF8=ACCEPT\r\n" + c.Tag + " OK done\r\n"
		case strings.Contains(raw, " SELECT "):
			return "* 1 EXISTS\r\n* OK [UIDVALIDITY 5] x\r\n" + c.Tag + " OK [READ-WRITE] done\r\n"
		case strings.Contains(raw, " FETCH "):
			return "* 1 FETCH (UID 7)\r\n" + c.Tag + " OK done\r\n"
		case strings.Contains(raw, " APPEND "):
			return c.Tag + " OK [APPENDUID 5 8] done\r\n"
		}
		return ""
	})
	if _, err := c.Enable(ctx, "UTF8=ACCEPT"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, "Drafts", nil); err != nil {
		t.Fatal(err)
	}
	msg := "Subject: x\r\n\r\nbefore\x00after\r\n"
	stream := func() io.Reader { return io.MultiReader(strings.NewReader(msg)) } // no Len: streamed
	if _, err := c.Append(ctx, "Drafts", stream(), int64(len(msg)), nil); err != nil {
		t.Fatalf("Append (UTF8 form, literal8): %v", err)
	}
	if _, err := c.Replace(ctx, commands.SeqNums(1), "Drafts", stream(), int64(len(msg)), nil); err != nil {
		t.Errorf("Replace fallback, the same message: %v", err)
	}
}

// TestReplaceFallbackExpungeAnswerLost is the same for Replace's
// fallback (Dovecot 2.3 has no REPLACE): the old message is expunged, the
// answer is lost, and the *ReplaceIncompleteError says "both are in their
// mailboxes" with Deleted set, while the old one is gone.
func TestReplaceFallbackExpungeAnswerLost(t *testing.T) {
	mb := dvMailbox(t, testserver.Alice, 1)
	r := faultrelay.New(t, dvServer(t).PlainAddr)
	c := relayClient(t, r)
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

// TestReplaceFallbackIncompleteNotErrNotSent: Replace's fallback (Dovecot 2.3
// has no REPLACE: APPEND, STORE +FLAGS \Deleted, UID EXPUNGE) whose STORE
// is not sent (another goroutine selected another mailbox after the
// APPEND) returns a *ReplaceIncompleteError that matches
// session.ErrNotSent, though the new message was stored: a caller
// retrying on ErrNotSent stores it twice.
func TestReplaceFallbackIncompleteNotErrNotSent(t *testing.T) {
	// Parallel: it has its own mailboxes,
	// server or relay, and looks at nothing process-wide.
	t.Parallel()
	mb := dvMailbox(t, testserver.Alice, 1)
	other := dvMailbox(t, testserver.Alice, 1)
	r := faultrelay.New(t, dvServer(t).PlainAddr)
	c := relayClient(t, r)
	if c.Session().HasCap("REPLACE") {
		t.Skip("the server has REPLACE")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	selErr := holdAndSelect(t, r, c, "Append completed", other)
	msg := []byte("From: a@example.org\r\nSubject: new draft\r\n\r\nnew\r\n")
	_, err := c.Replace(ctx, commands.UIDs(1), mb, bytes.NewReader(msg), int64(len(msg)), nil)
	t.Logf("Replace: %v; Select: %v", err, <-selErr)
	var ri *commands.ReplaceIncompleteError
	if !errors.As(err, &ri) {
		t.Skipf("the interleaving did not happen: %v", err)
	}
	c2 := dvClient(t, testserver.Alice, nil)
	st, err2 := c2.Status(ctx, mb, commands.StatusMessages)
	if err2 != nil {
		t.Fatal(err2)
	}
	t.Logf("mailbox holds %d messages; Unknown=%v", st.Messages, ri.Unknown)
	if errors.Is(err, session.ErrNotSent) && st.Messages == 2 {
		t.Fatalf("Replace returned an error matching session.ErrNotSent (\"safe to retry, whatever the command\"), but the new message was appended (the mailbox holds %d): a retry appends it twice", st.Messages)
	}
}

// TestReplaceSeqRenumberChecked (finding 3): 1b52cb3 checks "every command on sequence
// numbers" for an EXPUNGE read between the call and its turn, but
// Replace (RFC 8508 REPLACE, which expunges the message it names) is
// started without Command.CheckRenumbered: Replace(SeqNums(3)) waiting
// behind a NOOP whose answer brings "* 1 EXPUNGE" is sent as "REPLACE 3",
// and replaces (removes) the message that was number 4 at the call.
// Store, Copy, Move, Fetch and Search are refused (ErrRenumbered) in the
// same place.
func TestReplaceSeqRenumberChecked(t *testing.T) {
	msg := "Subject: new\r\n\r\nbody\r\n"
	after, err := queuedBehindExpunge(t, "IMAP4rev1 REPLACE UIDPLUS", func(ctx context.Context, c *commands.Client) error {
		_, err := c.Replace(ctx, commands.SeqNums(3), "INBOX", strings.NewReader(msg), int64(len(msg)), nil)
		return err
	})
	for _, l := range after {
		if strings.HasPrefix(l, "REPLACE 3") {
			t.Fatalf("sent %q after the NOOP's '* 1 EXPUNGE' (Replace: %v): it replaces the message that was number 4 at the call; want ErrRenumbered, nothing sent", l, err)
		}
	}
	if !errors.Is(err, commands.ErrRenumbered) {
		t.Fatalf("Replace: %v (sent %q); want ErrRenumbered", err, after)
	}
}
