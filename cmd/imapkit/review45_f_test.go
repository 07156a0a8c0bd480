package main

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// TestReview45FRedactCutCredential: a credential the server echoes (here
// the LOGIN password in a NO's text) must not show, even in part, in the
// trace of a line cut short. Two cases failed:
//   - a line over 1 MiB (relayed by ForwardLongLine): the start of its
//     untokenized part was printed from at most maxPrinted raw bytes, so a
//     password straddling their end was in the printed line only in part,
//     which redaction (of whole credentials) missed;
//   - a tokenized line cut at maxPrinted+slack with a password across that
//     cut and another, whole, before it: redacting the whole one to "***"
//     moved the partial one back under the maxPrinted cut.
//
// Defaults throughout.
func TestReview45FRedactCutCredential(t *testing.T) {
	pw := "Zq8SecretPassw0rdThatIsFortyCharsLong!x1" // 40 characters
	cases := map[string]string{
		// The password starts 30 raw bytes before maxPrinted bytes of
		// the untokenized part end.
		"long": "NO " + strings.Repeat("p", maxPrinted-30) + pw + " " + strings.Repeat("q", 1100000),
		// The second password starts about 15 printed bytes before
		// maxPrinted+slack (slack: the password's 40).
		"cut": "NO " + pw + " " + strings.Repeat("p", maxPrinted+40-15-54) + pw + " end",
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			addr := r45PUpstream(t, func(tag string) string {
				if tag == "a1" {
					return tag + " " + text + "\r\n"
				}
				return tag + " OK done\r\n"
			})
			paddr, out, _ := startProxy(t, "--upstream", "imap://"+addr)
			c, r := r45PDial(t, paddr)
			fmt.Fprintf(c, "a1 LOGIN alice %s\r\n", pw)
			if l, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(l, "a1 NO ") {
				t.Fatalf("%.40q %v", l, err)
			}
			// a2's answer comes after a1's line was traced (one
			// goroutine relays and traces the server's lines in turn).
			fmt.Fprintf(c, "a2 NOOP\r\n")
			if l, err := r.ReadString('\n'); err != nil || l != "a2 OK done\r\n" {
				t.Fatalf("%q %v", l, err)
			}
			found := false
			for _, line := range strings.Split(out.String(), "\n") {
				if !strings.Contains(line, "S: a1 NO") {
					continue
				}
				found = true
				if !strings.Contains(line, "pppppppp") || !strings.HasSuffix(line, "...") {
					t.Errorf("trace line: %.100q ... %q", line, line[max(0, len(line)-200):])
				}
				if i := strings.Index(line, pw[:4]); i >= 0 {
					t.Errorf("a part of the password is in the trace: %q", line[max(0, i-20):min(len(line), i+60)])
				}
			}
			if !found {
				t.Fatalf("no trace line for a1's answer:\n%.2000s", out.String())
			}
		})
	}
}

// TestReview45FCutPartialSplitsNoWhole: where a cut line ends in the start
// of one credential ("WORD" of "WORDxyz12") that is also the end of a
// whole one ("PASSWORD"), the line is cut before the whole one, not in it:
// cut inside, "PASS" would show.
func TestReview45FCutPartialSplitsNoWhole(t *testing.T) {
	var ss secretSet
	ss.add([]byte("PASSWORD"))
	ss.add([]byte("WORDxyz12"))
	p := printer{prefix: "[1] S: ", redact: &ss}
	p.begin(false, "")
	p.add([]byte("a1 NO xx PASSWORD"))
	p.cut = true
	if got := string(p.end()); got != "[1] S: a1 NO xx ...\n" {
		t.Errorf("got %q", got)
	}
}

// TestReview45FRefusedLongCommandAnswered: a legal command of 1.2 MB that
// the proxy refuses (here for its 300-byte tag; a SEARCH of 133,334
// numbers) got "* BYE" and a closed connection once refused commands
// were bounded at 1 MiB (read up to 2 MiB, the bound checked after each
// piece); before that bound it got its BAD, as stop 44 made it. The bound
// is now maxRefusedCommand (32 MiB): the BAD comes and the session goes
// on. Also a command that does not tokenize, as long (refused by
// RefuseLineMax, whose line bound was MaxLineLength). Defaults.
func TestReview45FRefusedLongCommandAnswered(t *testing.T) {
	addr := r45PUpstream(t, func(tag string) string { return tag + " OK done\r\n" })
	paddr, out, _ := startProxy(t, "--upstream", "imap://"+addr)
	longTag := strings.Repeat("t", 300)
	// 1.2 MB of 133,334 numbers of 8 digits (a line of more than
	// MaxLineTokens tokens is read in pieces; one of fewer, longer
	// tokens over MaxLineLength is not, and closes the connection).
	crit := strings.Repeat("12345678 ", 133334)
	for name, cmd := range map[string]string{
		"tokens":    longTag + " SEARCH " + crit + "ALL\r\n",
		"no tokens": "a1 SEARCH \"x\\y\" " + crit + "ALL\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			c, r := r45PDial(t, paddr)
			go io.WriteString(c, cmd+"a2 NOOP\r\n")
			l, err := r.ReadString('\n')
			if err != nil || !strings.Contains(l, " BAD ") {
				t.Fatalf("%.80q %v; trace:\n%.3000s", l, err, out.String())
			}
			if l, err := r.ReadString('\n'); err != nil || l != "a2 OK done\r\n" {
				t.Fatalf("%q %v; trace:\n%.3000s", l, err, out.String())
			}
		})
	}
}

// TestReview45FSwitchCompletionNotTokenized: a server's completion of
// COMPRESS (or STARTTLS) that does not tokenize ("a1 NO [X "y] ...", an
// unmatched quote in its code) was relayed by the syntax-error path,
// which never ended it as a completion: the client's direction waited for
// the server's answer to COMPRESS until the connection ended, and the
// client's next command was never relayed. Now the line is ended as any
// other: after a NO the session goes on; after an OK the rest of the
// connection is relayed without decoding it. Defaults.
func TestReview45FSwitchCompletionNotTokenized(t *testing.T) {
	for _, status := range []string{"NO", "OK"} {
		t.Run(status, func(t *testing.T) {
			addr := r45PUpstream(t, func(tag string) string {
				if tag == "a1" {
					return tag + " " + status + " [X \"y] compress\r\n"
				}
				return tag + " OK done\r\n"
			})
			paddr, out, _ := startProxy(t, "--upstream", "imap://"+addr)
			c, r := r45PDial(t, paddr)
			// A bound on the wait: without the fix, a2 gets no answer.
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			fmt.Fprintf(c, "a1 COMPRESS DEFLATE\r\n")
			if l, err := r.ReadString('\n'); err != nil || l != "a1 "+status+" [X \"y] compress\r\n" {
				t.Fatalf("%q %v", l, err)
			}
			// After an OK the proxy relays bytes as they come; the
			// hostile server does not compress, so plain lines do.
			fmt.Fprintf(c, "a2 NOOP\r\n")
			if l, err := r.ReadString('\n'); err != nil || l != "a2 OK done\r\n" {
				t.Fatalf("%q %v; trace:\n%.3000s", l, err, out.String())
			}
			if active := strings.Contains(out.String(), "COMPRESS=DEFLATE active"); active != (status == "OK") {
				t.Errorf("trace:\n%.3000s", out.String())
			}
		})
	}
}
