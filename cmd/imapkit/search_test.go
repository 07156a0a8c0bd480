package main

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/workhook"
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
// took 41 s). They are gathered and added in one sort now.
//
// What is counted is the work: the ranges AddRange shifted during the
// search (workhook.RangesShifted), at most n for an answer of n UIDs
// (none now; n*(n-1)/2 added one by one), not the time against an answer
// of an eighth the size (x30 at most), which a loaded machine could
// stretch. Serial: it sets a hook of the process.
func TestSearchESearchQuadratic(t *testing.T) {
	setEnv(t, "IMAPKIT_PASSWORD", "pw")
	const n = 100_000
	srv := esearchDescending(t, n)
	defer srv.Close()
	var shifted atomic.Int64
	t.Cleanup(workhook.RangesShifted.Set(t, func(_, _, k int) { shifted.Add(int64(k)) }))
	code, out, errs := runCLI(t, "", "search", "imap://alice@"+srv.Addr(), "INBOX", "ALL")
	lines := bytes.Count([]byte(out), []byte("\n"))
	if code != 0 || lines != n {
		t.Fatalf("exit %d, %d UIDs printed; want 0 and %d (stderr %.200q)", code, lines, n, errs)
	}
	t.Logf("an ESEARCH ALL of %d descending UIDs (%d bytes on the wire): %d ranges shifted", n, 7*n, shifted.Load())
	if shifted.Load() > n {
		t.Errorf("an ESEARCH ALL of n descending UIDs costs super-linear work in imapkit search: %d ranges shifted for %d UIDs; want at most %d (added in one sort)", shifted.Load(), n, n)
	}
}

// searchAnswerServer answers UID SEARCH with lines (each "%s" the
// command's tag), then OK.
func searchAnswerServer(t *testing.T, lines ...string) string {
	t.Helper()
	return jsonServer(t, func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1 ESEARCH"); err != nil {
			return err
		}
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return nil
			}
			switch cmd.Name {
			case "UID SEARCH":
				for _, l := range lines {
					if strings.Contains(l, "%s") {
						l = fmt.Sprintf(l, cmd.Tag)
					}
					if err = c.Line(l); err != nil {
						return nil
					}
				}
				err = c.Reply(cmd.Tag, "OK done")
			default:
				err = c.Answer(cmd)
			}
			if err != nil || cmd.Name == "LOGOUT" {
				return nil
			}
		}
	})
}

// TestSearchTakesOnlyItsOwnESearch: the UIDs search (and export and copy,
// which choose their messages by it) takes from an answer are those of
// its own SEARCH or ESEARCH: not an ESEARCH tagged for another command,
// nor one of sequence numbers (no UID indicator) that names messages.
// Before, every ESEARCH of the answer was taken: "* ESEARCH (TAG "zz")
// UID ALL 1:5" added UIDs 1 to 5, and an export or copy fetched UIDs that
// were never there, took them for expunged and moved its state past
// them (a later message given one of those UIDs never copied). An answer
// with none of its own but another's is an error (exit 3), as
// commands.Client.Search's MissingError: nothing is known of the
// matches.
func TestSearchTakesOnlyItsOwnESearch(t *testing.T) {
	// Waits on scripted servers over TCP.
	t.Parallel()
	addr := searchAnswerServer(t, `* ESEARCH (TAG "zz") UID ALL 1:5`, `* ESEARCH ALL 7:9`, `* ESEARCH (TAG "%s") UID ALL 20,22`)
	code, out, errs := runCLI(t, "", "search", "imap://alice@"+addr, "INBOX", "ALL")
	if code != 0 || out != "20\n22\n" {
		t.Errorf("search: exit %d, stdout %q, stderr %q; want 0 and UIDs 20 and 22 only", code, out, errs)
	}
	addr = searchAnswerServer(t, `* ESEARCH (TAG "zz") UID ALL 1:5`)
	code, out, errs = runCLI(t, "", "search", "imap://alice@"+addr, "INBOX", "ALL")
	if code != exitConnFail || out != "" || !strings.Contains(errs, "ESEARCH") {
		t.Errorf("search answered with another's ESEARCH only: exit %d, stdout %q, stderr %q; want exit %d naming the missing ESEARCH", code, out, errs, exitConnFail)
	}
}
