package commands_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
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
