package main

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestZZSlowTokenAfterLiteralCut(t *testing.T) {
	clientWriteSpeed(t, 120)
	up := review48AUpstream(t, func(c net.Conn) {
		io.WriteString(c, "* OK ready\r\n")
		br := bufio.NewReader(c)
		l, err := br.ReadString('\n')
		if err != nil {
			return
		}
		tag, _, _ := strings.Cut(l, " ")
		io.WriteString(c, "* 1 FETCH (BODY[1] {3}\r\n")
		time.Sleep(50 * time.Millisecond)
		io.WriteString(c, `abc BODY[2] "`)
		for i := 0; i < 40; i++ { // 1 s in all, a byte every 25 ms
			time.Sleep(25 * time.Millisecond)
			if _, err := io.WriteString(c, "x"); err != nil {
				return
			}
		}
		io.WriteString(c, "\")\r\n"+tag+" OK done\r\n")
		io.Copy(io.Discard, br)
	})
	addr, out, _ := startProxy(t, "--upstream", "imap://"+up)
	lc := dialLines(t, addr)
	lc.send("a1 FETCH 1 (BODY[1] BODY[2])\r\n")
	if got := lc.line(); got != "* 1 FETCH (BODY[1] {3}\r\n" {
		t.Fatalf("FETCH: %q", got)
	}
	lc.send("a2 STARTTLS\r\n")
	// A bound against a hang, not a timed assertion.
	lc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	rest, err := lc.br.ReadString('\n')
	want := `abc BODY[2] "` + strings.Repeat("x", 40) + "\")\r\n"
	if rest != want {
		t.Fatalf("the rest of the FETCH: %q (%v); want %q (the server never stalled: a byte every 25 ms, the bound 250 ms)\ntrace:\n%s", rest, err, want, out.String())
	}
}
