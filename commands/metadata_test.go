package commands_test

import (
	"testing"

	"github.com/imapkit/imapkit/commands"
)

// TestGetMetadataInboxChildCase: GetMetadata of "inbox/<child>"
// (INBOX in another case, RFC 9051 section 5.1) on Dovecot, which answers
// "* METADATA INBOX/<child> (...)", its own spelling. GetMetadata compared
// the names as sent, INBOX alone case-insensitively, and dropped the
// entry as another mailbox's: an empty result and no error
// (codec.SameMailbox now).
func TestGetMetadataInboxChildCase(t *testing.T) {
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
