package auth

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/session"
)

// TestNormalAuthenticateSucceedsRepeatedly: ordinary exchanges (PLAIN
// with SASL-IR, PLAIN without it answering an empty "+ ", LOGIN's
// prompts) end in AUTH without error, run after run (72a4d9e's settled
// OK and acceptedBeforeCancel on every Wait path must not touch them).
func TestNormalAuthenticateSucceedsRepeatedly(t *testing.T) {
	for _, tc := range []struct {
		name, caps string
		mech       func() Mechanism
		lines      []string // each written after reading one client line
	}{
		{"PLAIN SASL-IR", "AUTH=PLAIN SASL-IR", func() Mechanism { return NewPlain("", "u", "p") }, []string{"OK [CAPABILITY IMAP4rev1] done"}},
		{"PLAIN +", "AUTH=PLAIN", func() Mechanism { return NewPlain("", "u", "p") }, []string{"+ ", "OK [CAPABILITY IMAP4rev1] done"}},
		{"LOGIN", "AUTH=LOGIN", func() Mechanism { return NewLogin("u", "p") }, []string{"+ VXNlcm5hbWU6", "+ UGFzc3dvcmQ6", "OK [CAPABILITY IMAP4rev1] done"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range 30 {
				client, done := fakeServer(tc.caps, func(w io.Writer, r *bufio.Reader, tag string) {
					for j, out := range tc.lines {
						if j > 0 {
							r.ReadString('\n')
						}
						if strings.HasPrefix(out, "+") {
							io.WriteString(w, out+"\r\n")
						} else {
							io.WriteString(w, tag+" "+out+"\r\n")
						}
					}
				})
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				c, err := Open(ctx, &remoteConn{client}, &Options{AllowInsecurePassword: true})
				if err != nil {
					t.Fatal(err)
				}
				err = c.Authenticate(ctx, tc.mech())
				st, serr := c.Session().State(), c.Session().Err()
				c.Session().Close()
				client.Close()
				<-done
				cancel()
				if err != nil || st != session.StateAuth || serr != nil {
					t.Fatalf("run %d: Authenticate: %v, state %v, session %v; want success in AUTH", i, err, st, serr)
				}
			}
		})
	}
}
