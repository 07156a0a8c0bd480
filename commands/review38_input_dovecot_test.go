package commands_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
)

// TestReview38InputAppendBadArgInjectionDovecot: an APPEND argument that
// Dovecot refuses while parsing, before the message, is not only a
// refused command. Dovecot (LITERAL+, so the message goes at once as a
// non-synchronizing literal) answers BAD as soon as it parses the bad
// argument, and then reads the message as command lines: a message whose
// body holds "X1 CREATE name" makes Dovecot create that mailbox. Whoever
// writes the message (mail being imported or copied, with its date and
// flags) runs commands on the account; the session then aborts on the
// tag X1 it never sent. The arguments that do it, all passed without an
// error by Append and AppendMany:
//
//   - a date outside years 0-9999 (AppendInternalDate writes "10000" or
//     "-1", "not valid IMAP"): "BAD Invalid internal date";
//   - a flag with a backslash that is no system flag Dovecot allows: a
//     typo such as `\Seeen` (which Search refuses for this very reason),
//     or `\Recent`: "BAD Invalid system flag".
func TestReview38InputAppendBadArgInjectionDovecot(t *testing.T) {
	ctx := dvCtx(t)
	mb := dvMailbox(t, "alice", 0)
	cases := []struct {
		name   string
		append func(ctx context.Context, c *commands.Client, body []byte) error
	}{
		{"date-year-10000", func(ctx context.Context, c *commands.Client, body []byte) error {
			_, err := c.AppendBytes(ctx, mb, body, &commands.AppendOptions{Date: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
			return err
		}},
		{"flag-typo", func(ctx context.Context, c *commands.Client, body []byte) error {
			_, err := c.AppendBytes(ctx, mb, body, &commands.AppendOptions{Flags: []string{`\Seeen`}})
			return err
		}},
		{"flag-recent", func(ctx context.Context, c *commands.Client, body []byte) error {
			_, err := c.AppendBytes(ctx, mb, body, &commands.AppendOptions{Flags: []string{commands.FlagRecent}})
			return err
		}},
		{"multiappend-date-year-minus-5", func(ctx context.Context, c *commands.Client, body []byte) error {
			_, err := c.AppendMany(ctx, mb, []commands.AppendMessage{
				{R: bytes.NewReader([]byte("a\r\n")), Size: 3},
				{R: bytes.NewReader(body), Size: int64(len(body)),
					Options: &commands.AppendOptions{Date: time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)}},
			})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			victim := mb + "/injected-" + tc.name
			c := dvClient(t, "alice", nil)
			err := tc.append(ctx, c, []byte("X1 CREATE "+victim+"\r\n"))
			t.Logf("append: %v", err)
			// Dovecot answers in order: once the NOOP is answered (or
			// the session aborted on X1's answer), what came before it
			// has run.
			c.Noop(ctx)
			l, err := dvClient(t, "alice", nil).List(ctx, victim, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(l) > 0 {
				t.Errorf("the message body ran as a command: mailbox %q exists", l[0].Name)
			}
		})
	}
}
