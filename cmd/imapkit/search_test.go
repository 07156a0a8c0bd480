package main

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
)

// esearchDescending starts a server that answers UID SEARCH with
// one ESEARCH whose ALL lists n single UIDs in descending order, none
// adjacent ("ALL 2n,2n-2,...,4,2"): about 7 bytes a UID, well within the
// decoder's defaults (MaxNumbers allows 1,048,576 ranges).
func esearchDescending(t *testing.T, n int) *hostile.Server {
	var line bytes.Buffer
	line.WriteString(`* ESEARCH (TAG "%s") UID ALL `)
	for i := n; i > 0; i-- {
		if i != n {
			line.WriteByte(',')
		}
		line.WriteString(strconv.Itoa(2 * i))
	}
	tmpl := line.String()
	srv, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1 ESEARCH AUTH=PLAIN"); err != nil {
			return err
		}
		cmd, err := c.Until("UID SEARCH")
		if err != nil {
			return err
		}
		c.Line(fmt.Sprintf(tmpl, cmd.Tag))
		c.Reply(cmd.Tag, "OK done")
		return c.Serve()
	})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestSearchESearchQuadratic: imapkit search (and copy and
// export, which use the same searchUIDs) added the ranges of an ESEARCH ALL
// one by one with codec.SeqSet.AddRange. A server that lists them in
// descending order made every AddRange insert at the front of the set,
// shifting all the ranges before it: O(n^2) for n ranges (400,000 UIDs
// took 41 s). The time should grow about linearly with the answer's size:
// x8 the UIDs, x8 the time (quadratic: x64); the bound, x30, is generous
// for a loaded machine, and each size is timed at its best of up to three runs.
func TestSearchESearchQuadratic(t *testing.T) {
	setEnv(t, "IMAPKIT_PASSWORD", "pw")
	sizes := []int{20_000, 160_000}
	best := make([]time.Duration, len(sizes))
	for i, n := range sizes {
		for run := 0; run < 3; run++ {
			srv := esearchDescending(t, n)
			start := time.Now()
			code, out, errs := runCLI(t, "", "search", "imap://alice@"+srv.Addr(), "INBOX", "ALL")
			d := time.Since(start)
			srv.Close()
			lines := bytes.Count([]byte(out), []byte("\n"))
			if code != 0 || lines != n {
				t.Fatalf("n=%d: exit %d, %d UIDs printed; want 0 and %d (stderr %.200q)", n, code, lines, n, errs)
			}
			if run == 0 || d < best[i] {
				best[i] = d
			}
			if i == 1 && best[1] <= 30*best[0] {
				break // within the bound: no need of another run
			}
		}
		t.Logf("n=%d (%d bytes on the wire): best run %v", n, 7*n, best[i])
	}
	ratio := float64(best[1]) / float64(best[0])
	t.Logf("time(8n)/time(n) = %.1f (linear: ~8, quadratic: ~64)", ratio)
	if ratio > 30 {
		t.Errorf("an ESEARCH ALL of n descending UIDs costs super-linear time in imapkit search: x8 the answer took x%.1f the time (%v for %d UIDs)", ratio, best[1], sizes[1])
	}
}
