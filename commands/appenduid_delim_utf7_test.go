package commands_test

import (
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
)

// TestRenameParentNameGoneNonASCIISelected: the session keeps the
// selected mailbox's delimiter only from a LIST response naming it or a
// parent of it (session/exists.go listDelim), comparing the response's
// name as sent (codec.List.Mailbox: modified UTF-7) with s.selected,
// which is decoded (DecodeMailboxLenient: UTF-8). A selected
// "Entwürfe/Alt" is never matched by its own LIST response
// "Entw&APw-rfe/Alt" (nor its parent's "Entw&APw-rfe"): no delimiter is
// kept, and RENAME Entwürfe of its parent is not seen as taking its
// name: the next mailbox's APPENDUID 9 1 is dropped as stale (the check
// runs against the old selection's UIDVALIDITY 1). Defaults.
func TestRenameParentNameGoneNonASCIISelected(t *testing.T) {
	fs := appendUIDServer()
	fs.on["LIST"] = func(hc *hostile.Conn, cmd *hostile.Command) error {
		return hc.Lines(`* LIST () "/" "INBOX"`, `* LIST () "/" "Entw&APw-rfe"`, `* LIST () "/" "Entw&APw-rfe/Alt"`, cmd.Tag+" OK done")
	}
	ctx, c := fakeClient(t, fs)
	if _, err := c.Select(ctx, "Entwürfe/Alt", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.List(ctx, "*", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rename(ctx, "Entwürfe", "Q"); err != nil {
		t.Fatal(err)
	}
	ar, err := c.Append(ctx, "Entwürfe/Alt", strings.NewReader("x\r\n"), 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *ar == (commands.AppendResult{}) {
		t.Errorf("selected Entwürfe/Alt, LIST naming it (\"Entw&APw-rfe/Alt\", delimiter \"/\"), RENAME Entwürfe Q, APPEND answered APPENDUID 9 1: result %+v; want the APPENDUID kept (the name is another mailbox's now)", ar)
	}
}
