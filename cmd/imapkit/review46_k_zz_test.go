package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// TestReview46KUnspacedOverLongOK (found by review): a COMPRESS completion "a1 OK <text>" whose
// line passes the line bound (1 MiB) is read by the codec as a
// DecodeError (line too long): an imapkit client does not switch. The
// proxy, whose Dialog saw the tokens "a1 SP OK SP" before the long text,
// has Event.Unspaced false and switches to COMPRESS. Event.Unspaced's
// contract ("an OK the codec would not read as OK") does not hold for
// such a line; the proxy should close as for an unspaced OK. Defaults.
func TestReview46KUnspacedOverLongOK(t *testing.T) {
	for _, ans := range []string{
		"a1 OK " + strings.Repeat("x", 1<<20+4096) + "\r\n",
		"a1 OK [ALERT] " + strings.Repeat("x", 1<<20+4096) + "\r\n",
	} {
		d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(ans), nil), nil)
		r, err := d.Next()
		if s, ok := r.(*codec.Status); err == nil && ok && s.Kind == codec.StatusOK {
			t.Fatalf("the client reads the long line as OK")
		}
		addr := r45PUpstream(t, func(tag string) string {
			if tag == "a1" {
				return ans
			}
			return tag + " OK done\r\n"
		})
		paddr, out, _ := startProxy(t, "--upstream", "imap://"+addr)
		c, rd := r45PDial(t, paddr)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "a1 COMPRESS DEFLATE\r\n")
		fmt.Fprintf(c, "a2 NOOP\r\n")
		var last string
		for {
			l, err := rd.ReadString('\n')
			if l != "" {
				last = l
			}
			if err != nil || strings.HasPrefix(l, "a2 ") {
				break
			}
		}
		if strings.Contains(out.String(), "COMPRESS=DEFLATE active") || strings.HasPrefix(last, "a2 ") {
			t.Errorf("%.20q...: the proxy switched to COMPRESS on a completion the client reads as a DecodeError (last line %.40q)", ans, last)
		}
		if !strings.Contains(out.String(), "over the line bound") {
			t.Errorf("%.20q...: the proxy did not say why it closed: %.300q", ans, out.String())
		}
	}
}
