//go:build linux

package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/testserver"
)

// TestMboxRoundTripBytes: docs/cli.md said an export to mbox then an
// import gives "the same bytes and dates", but a message without a final
// line end comes back with a CRLF added: an mbox has no way to say so (a
// marker header would change the message's bytes in the mbox, and other
// readers would keep it). The docs now state the exception, and this test
// holds the round trip to it: every message the same, but that one with
// exactly a CRLF added.
func TestMboxRoundTripBytes(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 0)
	_, url := urls(srv)
	c := client(t, srv.TLSAddr, srv, testserver.Alice, testserver.Password)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, m := range []string{
		"From: a@example.com\r\nSubject: no final line end\r\n\r\nlast line without CRLF",
		"From: a@example.com\r\nSubject: bare LF\n\nbody with bare LF\n",
	} {
		if _, err := c.AppendBytes(ctx, "Src", []byte(m), nil); err != nil {
			if err := c.Create(ctx, "Src", nil); err != nil {
				t.Fatal(err)
			}
			if _, err := c.AppendBytes(ctx, "Src", []byte(m), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	mbox := filepath.Join(t.TempDir(), "src.mbox")
	cli(t, "", 0, append([]string{"export", url, "Src", "--to", mbox, "--quiet"}, cf...)...)
	cli(t, "", 0, append([]string{"import", url, mbox, "--to", "Back", "--quiet"}, cf...)...)
	want, got := mailOf(t, c, "Src"), mailOf(t, c, "Back")
	if len(got) != len(want) {
		t.Fatalf("%d messages back; want %d", len(got), len(want))
	}
	for i := range want {
		w := want[i].body
		if !strings.HasSuffix(w, "\n") {
			w += "\r\n" // the documented exception
		}
		if got[i].body != w {
			t.Errorf("message %d: %q back; was %q", i+1, got[i].body, want[i].body)
		}
	}
}
