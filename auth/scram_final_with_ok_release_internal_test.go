package auth

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/imapkit/imapkit/session"
)

// TestSCRAMServerFinalWithOKReleasesCommands: after a SCRAM exchange
// whose right server-final-message came with the tagged OK (the session
// holds the commands behind the AUTHENTICATE until the client's verdict
// on that challenge), Authenticate gives the verdict: a NOOP run next is
// sent and answered at once, not held until the command bound aborts the
// session. In a synctest bubble, with the library's defaults; several
// runs, as authenticate's loop takes the OK or the challenge first at
// random.
func TestSCRAMServerFinalWithOKReleasesCommands(t *testing.T) {
	for i := range 16 {
		synctest.Test(t, func(t *testing.T) {
			client, _ := scramServer(func(w io.Writer, r *bufio.Reader, tag string) {
				r.ReadString('\n') // client-final-message
				io.WriteString(w, "+ "+b64("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")+"\r\n"+tag+" OK [CAPABILITY IMAP4rev1] welcome\r\n")
				for {
					l, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if tag, cmd, _ := strings.Cut(strings.TrimRight(l, "\r\n"), " "); cmd == "NOOP" {
						io.WriteString(w, tag+" OK done\r\n")
					}
				}
			})
			ctx := context.Background()
			c := openRemote(t, ctx, client)
			defer c.Session().Close()
			if err := c.Authenticate(ctx, rfc7677Client()); err != nil {
				t.Fatalf("run %d: Authenticate: %v", i, err)
			}
			if _, err := c.Session().Run(ctx, &session.Command{Name: "NOOP"}); err != nil {
				t.Errorf("run %d: NOOP after the SCRAM exchange: %v; want it run at once", i, err)
			}
		})
	}
}
