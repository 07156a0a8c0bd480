package commands_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
)

// TestReview39VAppendNegativeYearInjects: eb0d5a1 replaced Append's date check
// (year in 0-9999, in its zone and in UTC) by "the written INTERNALDATE
// is 26 bytes long". codec.AppendInternalDate writes a year outside
// 0-9999 with strconv.AppendInt, and a year from -999 to -100 takes four
// characters ("-100"): the check passes, and Append sends
// "01-Jan--100 00:00:00 +0000", which Dovecot answers BAD before the
// literal. With LITERAL+ the body is sent anyway and runs as commands:
// the message "X1 CREATE victim" creates the mailbox. Before eb0d5a1 the
// date was refused (y < 0) and nothing was sent.
func TestReview39VAppendNegativeYearInjects(t *testing.T) {
	ctx := dvCtx(t)
	mb := dvMailbox(t, "alice", 0)
	c := dvClient(t, "alice", nil)
	d := time.Date(-100, 1, 1, 0, 0, 0, 0, time.UTC)
	victim := fmt.Sprintf("%s/zz-injected", mb)
	_, err := c.AppendBytes(ctx, mb, []byte("X1 CREATE "+victim+"\r\n"), &commands.AppendOptions{Date: d})
	if err == nil || !strings.Contains(err.Error(), "four digits") {
		t.Errorf("Append dated %q (year %d): %v; want the date refused before anything is sent", codec.AppendInternalDate(nil, d), d.Year(), err)
	}
	c2 := dvClient(t, "alice", nil)
	if l, err := c2.List(ctx, victim, nil); err != nil || len(l) > 0 {
		t.Errorf("the message body ran as a command: LIST %s = %v, %v", victim, l, err)
	}
}
