package commands_test

import (
	"errors"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

// TestStatusRefusedItem replays STATUS answered BAD for one item: Status
// asks again without it and says which items it dropped, or returns a
// *StatusItemError when nothing is left to ask.
func TestStatusRefusedItem(t *testing.T) {
	c, ctx := scripted(t, "status/refused")
	st, err := c.Status(ctx, "INBOX", commands.StatusMessages|commands.StatusUIDNext|commands.StatusAppendLimit)
	if err != nil || st.Messages != 3 || st.UIDNext != 9 || st.Refused != commands.StatusAppendLimit || st.Has(commands.StatusAppendLimit) {
		t.Fatalf("STATUS without APPENDLIMIT: %v %+v", err, st)
	}
	st, err = c.Status(ctx, "INBOX", commands.StatusMessages|commands.StatusSize|commands.StatusAppendLimit)
	if err != nil || st.Messages != 3 || st.Refused != commands.StatusAppendLimit|commands.StatusSize {
		t.Fatalf("STATUS without APPENDLIMIT and SIZE: %v %+v", err, st)
	}
	_, err = c.Status(ctx, "INBOX", commands.StatusAppendLimit)
	var ie *commands.StatusItemError
	if !errors.As(err, &ie) || ie.Item != commands.StatusAppendLimit || ie.Name != "APPENDLIMIT" || !errors.Is(err, session.ErrBad) {
		t.Fatalf("STATUS APPENDLIMIT alone: %v", err)
	}
	_, err = c.Status(ctx, "INBOX", commands.StatusMessages|commands.StatusUnseen)
	if errors.As(err, &ie) || !errors.Is(err, session.ErrBad) {
		t.Fatalf("STATUS BAD Syntax error: %v", err)
	}
	_, err = c.Status(ctx, "Nope", commands.StatusMessages|commands.StatusAppendLimit)
	if !errors.Is(err, session.ErrNo) {
		t.Fatalf("STATUS of a missing mailbox: %v", err)
	}
}

// TestStatusAppendLimitCyrus asks Cyrus 3.6 for APPENDLIMIT, which it
// advertises (APPENDLIMIT=n) but refuses in STATUS, and for DELETED,
// which it does not know.
func TestStatusAppendLimitCyrus(t *testing.T) {
	addr := testserver.StartCyrusT(t).Addr
	ctx := dvCtx(t)
	admin := cyClient(t, addr, testserver.CyrusAdmin, testserver.CyrusAdminPassword)
	if err := admin.Create(ctx, "user/alice", nil); err != nil {
		t.Fatal(err)
	}
	alice := cyClient(t, addr, "alice", "pass")
	if _, err := alice.AppendBytes(ctx, "INBOX", []byte("Subject: x\r\n\r\nhello\r\n"), nil); err != nil {
		t.Fatal(err)
	}
	st, err := alice.Status(ctx, "INBOX", commands.StatusMessages|commands.StatusUIDNext|commands.StatusAppendLimit)
	if err != nil || st.Messages != 1 || st.UIDNext != 2 || st.Refused != commands.StatusAppendLimit ||
		!st.Has(commands.StatusAppendLimit) || st.AppendLimit != 4294967295 {
		t.Fatalf("STATUS (MESSAGES UIDNEXT APPENDLIMIT): %v %+v", err, st)
	}
	st, err = alice.Status(ctx, "INBOX", commands.StatusAppendLimit)
	if err != nil || st.AppendLimit != 4294967295 || st.Messages != 1 {
		t.Fatalf("STATUS (APPENDLIMIT): %v %+v", err, st)
	}
	if _, err := alice.Status(ctx, "nosuch", commands.StatusAppendLimit); !errors.Is(err, session.ErrNo) {
		t.Fatalf("STATUS (APPENDLIMIT) of a missing mailbox: %v", err)
	}
	st, err = alice.Status(ctx, "INBOX", commands.StatusMessages|commands.StatusDeleted|commands.StatusAppendLimit)
	if err != nil || st.Messages != 1 || st.Refused != commands.StatusDeleted|commands.StatusAppendLimit {
		t.Fatalf("STATUS (MESSAGES DELETED APPENDLIMIT): %v %+v", err, st)
	}
	_, err = alice.Status(ctx, "INBOX", commands.StatusDeleted)
	var ie *commands.StatusItemError
	if !errors.As(err, &ie) || ie.Item != commands.StatusDeleted || !errors.Is(err, session.ErrBad) {
		t.Fatalf("STATUS (DELETED): %v", err)
	}
}
