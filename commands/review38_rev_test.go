package commands_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
)

// TestReview38RevAppendManyOpenOverAppendLimitFake: ErrTooBig (RFC 7889,
// "returned before it is sent") is checked for Append and for AppendMany's
// messages given with R and Size, but not for one given with Open: the
// Open wrapper (append.go, AppendMany) checks the size, normalises and
// guards NUL, and never calls checkAppendLimit. A 200-byte message opened
// mid-command goes out whole to a server with APPENDLIMIT=100 (and LITERAL+:
// the server may close the connection rather than read it). imapkit copy
// opens every message this way.
func TestReview38RevAppendManyOpenOverAppendLimitFake(t *testing.T) {
	c, ctx, f := r38FakeClient(t, "IMAP4rev1 LITERAL+ MULTIAPPEND APPENDLIMIT=100", func(c r38Cmd) string {
		return c.Tag + " NO [TOOBIG] too big\r\n"
	})
	big := bytes.Repeat([]byte("a"), 200)
	_, err := c.AppendMany(ctx, "INBOX", []commands.AppendMessage{
		{R: strings.NewReader("small\r\n"), Size: 7},
		{Open: func() (io.Reader, int64, error) { return bytes.NewReader(big), int64(len(big)), nil }},
	})
	t.Logf("AppendMany: %v", err)
	for _, a := range r38Appends(f) {
		if bytes.Contains(a.Raw, []byte("{200")) {
			t.Fatalf("a 200-byte message went out to a server with APPENDLIMIT=100: %q", a.Raw[:60])
		}
	}
	if !errors.Is(err, commands.ErrTooBig) {
		t.Errorf("error %v; want one wrapping ErrTooBig", err)
	}
}

// TestReview38RevAppendNormalizeCRLFNULDovecot: AppendOptions.Binary's doc
// says a message given in memory (a []byte, a *bytes.Reader) holding a
// NUL is sent as literal8 when the server has BINARY. With NormalizeCRLF
// (imaplib's conversion) the in-memory reader is replaced by a crlfReader
// before checkNUL (prepareAppend), which therefore wraps it in a nulGuard:
// the session is aborted mid-literal, on Dovecot, which has BINARY.
func TestReview38RevAppendNormalizeCRLFNULDovecot(t *testing.T) {
	ctx := dvCtx(t)
	mb := dvMailbox(t, "alice", 0)
	c := dvClient(t, "alice", nil)
	msg := []byte("Subject: nul\n\nbefore\x00after\n")
	_, err := c.AppendBytes(ctx, mb, msg, &commands.AppendOptions{NormalizeCRLF: true})
	if err != nil {
		t.Errorf("AppendBytes (in memory, NormalizeCRLF, a NUL, server with BINARY): %v; want it sent as literal8", err)
	}
	if errors.Is(err, session.ErrAborted) || c.Noop(ctx) != nil {
		t.Errorf("the session was aborted")
	}
}

// TestReview38RevNotifyInvalidMailboxNameDovecot: ErrMailboxName guards every
// name written by Client.mailbox, but Notify writes its groups' mailboxes
// itself (notify.go encodeNotifyGroup: e.Mailbox(c.encodeMailbox(m))):
// "Old\xff" still goes as modified UTF-7 with U+FFFD, and the server
// watches a mailbox nobody named, with no error.
func TestReview38RevNotifyInvalidMailboxNameDovecot(t *testing.T) {
	ctx := dvCtx(t)
	c := dvClient(t, "alice", nil)
	_, err := c.Notify(ctx, nil, commands.NotifyGroup{Filter: commands.NotifyMailboxes, Mailboxes: []string{"Old\xff"},
		Events: commands.NotifyMessageNew | commands.NotifyMessageExpunge})
	if !errors.Is(err, commands.ErrMailboxName) {
		t.Errorf("Notify for mailbox %q: %v; want ErrMailboxName", "Old\xff", err)
	}
}

// TestReview38RevReplaceFallbackUTF8NULFake: with UTF8=ACCEPT enabled, Append
// sends the UTF8 form, a literal8, and appendMessage unwraps the nulGuard
// so that a NUL may go. Replace without REPLACE runs prepareAppend and then
// Append, which runs prepareAppend again on the reader already wrapped: a
// nulGuard in a nulGuard, of which appendMessage unwraps only the outer.
// The same streamed message that Append sends aborts the session in
// Replace's fallback.
func TestReview38RevReplaceFallbackUTF8NULFake(t *testing.T) {
	c, ctx, _ := r38FakeClient(t, "IMAP4rev1 LITERAL+ UIDPLUS ENABLE UTF8=ACCEPT", func(c r38Cmd) string {
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
