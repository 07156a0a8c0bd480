package commands_test

// Tests from a review of typed results in package commands (correctness
// under concurrency, aliasing, early exit and quirky servers), stop 37:
// each failed before its fix.

import (
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"

	"github.com/imapkit/imapkit/commands"
)

// TestReview37GetMetadataInboxChildCase: GetMetadata of "inbox/<child>"
// (INBOX in another case, RFC 9051 section 5.1) on Dovecot, which answers
// "* METADATA INBOX/<child> (...)", its own spelling. GetMetadata compared
// the names as sent, INBOX alone case-insensitively, and dropped the
// entry as another mailbox's: an empty result and no error
// (codec.SameMailbox now).
func TestReview37GetMetadataInboxChildCase(t *testing.T) {
	c := dvClient(t, "alice", nil)
	ctx := dvCtx(t)
	name := "INBOX/zzaudit-meta"
	if err := c.Create(ctx, name, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Delete(dvCtx(t), name) })
	if err := c.SetMetadata(ctx, name, []commands.MetadataEntry{{Name: "/private/comment", Value: []byte("hello")}}); err != nil {
		t.Fatal(err)
	}
	// The server takes inbox/... as INBOX/...: STATUS and MYRIGHTS of the
	// same name work.
	if _, err := c.Status(ctx, "inbox/zzaudit-meta", commands.StatusMessages); err != nil {
		t.Fatal(err)
	}
	es, _, err := c.GetMetadata(ctx, "inbox/zzaudit-meta", []string{"/private/comment"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || string(es[0].Value) != "hello" {
		t.Fatalf(`GetMetadata("inbox/zzaudit-meta") = %+v; want the entry "hello" the server sent`, es)
	}
}

// TestReview37ListStatusInboxCase: LIST RETURN (STATUS) answered with the
// mailbox as "inbox" in its LIST and "INBOX" in its STATUS (INBOX is case
// insensitive, RFC 9051 section 5.1). List matched a STATUS (and a
// MYRIGHTS) to the held mailbox by exact name: INBOX's Status was nil.
func TestReview37ListStatusInboxCase(t *testing.T) {
	c := hostileClient(t, func(c *hostile.Conn) error {
		c.PreAuth("IMAP4rev1 LIST-EXTENDED LIST-STATUS")
		cmd, err := c.Until("LIST")
		if err != nil {
			return err
		}
		if err := c.Lines(`* LIST () "/" inbox`, "* STATUS INBOX (MESSAGES 9)", cmd.Tag+" OK done"); err != nil {
			return err
		}
		return c.Serve()
	})
	l, err := c.List(resCtx(t), "*", &commands.ListOptions{ReturnStatus: commands.StatusMessages})
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 1 || l[0].Status == nil || l[0].Status.Messages != 9 {
		t.Fatalf("List = %d mailboxes, first %+v; want inbox with Status MESSAGES 9", len(l), l[0])
	}
}
