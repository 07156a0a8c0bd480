package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/hostile"
)

// flakyWriter is a trace destination whose writes number fail (from
// 1) fail with ENOSPC, as a full disk's do; the others are kept.
type flakyWriter struct {
	mu   sync.Mutex
	n    int
	fail map[int]bool
	b    strings.Builder
}

// errTraceNoSpace is a full disk's error as the trace's writers show it:
// syscall.ENOSPC's text (Plan 9's package syscall has no ENOSPC, and the
// proxy matches none: it prints the error).
var errTraceNoSpace = errors.New("no space left on device")

func (w *flakyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n++
	if w.fail[w.n] {
		return 0, fmt.Errorf("write /trace: %w", errTraceNoSpace)
	}
	return w.b.Write(p)
}

func (w *flakyWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestProxyTraceWriteError: the proxy ignored the errors of its
// trace writes: a full disk lost lines of the trace without a word, and
// the proxy exited 0. Now the first error is reported on stderr (once),
// the connection goes on working, the trace says where lines were lost
// when writing works again, and the exit status is 3.
func TestProxyTraceWriteError(t *testing.T) {
	t.Parallel()
	up, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1"); err != nil {
			return err
		}
		return c.Serve()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer setInterrupted(t, ctx)()
	trace := &flakyWriter{fail: map[int]bool{2: true, 3: true, 4: true}}
	stderr := &syncBuffer{}
	code := make(chan int, 1)
	go func() {
		code <- run(testEnv(t), []string{"proxy", "--listen", "127.0.0.1:0", "--upstream", "imap://" + up.Addr(), "--once"}, strings.NewReader(""), trace, stderr)
	}()
	var addr string
	for i := 0; i < 500 && addr == ""; i++ {
		if _, rest, ok := strings.Cut(stderr.String(), "listening on "); ok {
			addr, _, _ = strings.Cut(rest, ",")
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if addr == "" {
		t.Fatalf("the proxy did not start: %s", stderr.String())
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(c)
	var got []string
	readTo := func(tag string) {
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("reading the proxy's answer: %v (got %q)", err, got)
			}
			got = append(got, l)
			if strings.HasPrefix(l, tag+" ") {
				return
			}
		}
	}
	readTo("*")
	for _, tag := range []string{"a1", "a2", "a3", "a4"} {
		fmt.Fprintf(c, "%s NOOP\r\n", tag)
		readTo(tag)
	}
	fmt.Fprintf(c, "a5 LOGOUT\r\n")
	readTo("a5")
	c.Close()
	var exit int
	select {
	case exit = <-code:
	case <-time.After(20 * time.Second):
		cancel()
		exit = <-code
	}
	errs := stderr.String()
	t.Logf("exit %d\nstderr: %s\ntrace: %s", exit, errs, trace.String())
	if !strings.Contains(got[len(got)-1], "a5 OK") {
		t.Errorf("the connection did not go on working: %q", got)
	}
	if n := strings.Count(errs, "no space left on device"); n != 1 {
		t.Errorf("stderr reports the trace's write error %d times, want once: %q", n, errs)
	}
	if !strings.Contains(trace.String(), "lines lost") {
		t.Errorf("the trace does not say where lines were lost: %q", trace.String())
	}
	if exit != exitConnFail {
		t.Errorf("exit %d with lines of the trace lost; want %d", exit, exitConnFail)
	}
}

// TestProxyRedactCutCredential: a credential the server echoes (here
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
func TestProxyRedactCutCredential(t *testing.T) {
	t.Parallel()
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
			addr := answerUpstream(t, func(tag string) string {
				if tag == "a1" {
					return tag + " " + text + "\r\n"
				}
				return tag + " OK done\r\n"
			})
			paddr, out, _ := startProxy(t, "--upstream", "imap://"+addr)
			c, r := dialProxy(t, paddr)
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

// TestProxyCutPartialSplitsNoWhole: where a cut line ends in the start
// of one credential ("WORD" of "WORDxyz12") that is also the end of a
// whole one ("PASSWORD"), the line is cut before the whole one, not in it:
// cut inside, "PASS" would show.
func TestProxyCutPartialSplitsNoWhole(t *testing.T) {
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

// TestProxyRedactOverlapping: two credentials that overlap in a
// server's line (the end of one is the start of the other: "abcdefgh" and
// "fghijklm", echoed as "abcdefghijklm") were redacted one after the
// other with ReplaceAll: the first left "ijklm" of the second, which it no
// longer matched ("***ijklm"). Every byte covered by a form is marked now,
// each marked run replaced by "***"; so is a credential that overlaps
// itself ("aaa" in "aaaa").
func TestProxyRedactOverlapping(t *testing.T) {
	var ss secretSet
	ss.add([]byte("abcdefgh"))
	ss.add([]byte("fghijklm"))
	ss.add([]byte("zzz"))
	p := printer{prefix: "[1] S: ", redact: &ss}
	p.begin(false, "")
	p.add([]byte("a1 NO abcdefghijklm and zzzz, fgh."))
	got := string(p.end())
	if want := "[1] S: a1 NO *** and ***, fgh.\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// partialWriter fails its writes numbered in fail (from 1) after
// writing half of their bytes, as a disk that fills during a write does.
type partialWriter struct {
	n    int
	fail map[int]bool
	b    strings.Builder
}

func (w *partialWriter) Write(p []byte) (int, error) {
	w.n++
	if w.fail[w.n] {
		w.b.Write(p[:len(p)/2])
		return len(p) / 2, fmt.Errorf("write /trace: %w", errTraceNoSpace)
	}
	return w.b.Write(p)
}

// TestProxyTracePartialWrite: a trace write that failed after some of
// its bytes was counted as a whole line lost ("* trace: 1 lines lost
// here"), and that note went on the same line as the bytes written. Now
// the line counts as cut short, and the note begins a line of its own.
func TestProxyTracePartialWrite(t *testing.T) {
	w := &partialWriter{fail: map[int]bool{2: true}}
	stderr := &strings.Builder{}
	l := &lockedWriter{w: w, errOut: stderr}
	for _, s := range []string{"[1] S: one\n", "[1] S: two two\n", "[1] S: three\n"} {
		l.line([]byte(s))
	}
	want := "[1] S: one\n[1] S: \n* trace: 1 lines cut short here (write /trace: no space left on device)\n[1] S: three\n"
	if got := w.b.String(); got != want {
		t.Errorf("trace:\n%q\nwant\n%q", got, want)
	}
	if err := l.failure(); err == nil || !strings.Contains(err.Error(), "1 lines could not be written, 1 of them in part") {
		t.Errorf("failure: %v", err)
	}
	if strings.Count(stderr.String(), "no space left") != 1 {
		t.Errorf("stderr: %q", stderr.String())
	}
}

// literalRE matches a literal's header at the end of a client line.
var literalRE = regexp.MustCompile(`\{(\d+)\+?\}$`)

// TestProxyTraceBareCRCredential: a reviewer suspected that a
// credential with a bare CR in it (a LOGIN password sent as a literal, an
// atom or a quoted string, an AUTHENTICATE response line or initial
// response) might have its start printed in the proxy's trace, the CR
// cutting it before the redaction rule. The proxy runs with its default
// trace; the upstream answers every literal's "+" and refuses each login.
// Neither half of the password ("PWDA", "PWDB") may be in the trace. None
// is: a literal's body is never printed, nor a line that does not
// tokenize (the proxy answers it BAD, or closes); the test stays as a
// guard, with a plain LOGIN as its control (a9: it fails when LOGIN's
// password is not redacted).
func TestProxyTraceBareCRCredential(t *testing.T) {
	t.Parallel()
	up, err := hostile.Listen(func(c *hostile.Conn) error {
		if err := c.Greet("IMAP4rev1 AUTH=PLAIN LITERAL+"); err != nil {
			return err
		}
		for {
			line, err := c.ReadLine()
			if err != nil {
				return err
			}
			cmd := hostile.ParseCommand(line)
			for m := literalRE.FindStringSubmatch(line); m != nil; m = literalRE.FindStringSubmatch(line) {
				n, _ := strconv.ParseInt(m[1], 10, 64)
				if !strings.HasSuffix(m[0], "+}") {
					if err := c.Continue("go"); err != nil {
						return err
					}
				}
				if _, err := c.ReadLiteral(n); err != nil {
					return err
				}
				if line, err = c.ReadLine(); err != nil {
					return err
				}
			}
			switch {
			case cmd.Name == "LOGOUT":
				return c.Lines("* BYE bye", cmd.Tag+" OK LOGOUT done")
			case cmd.Name == "AUTHENTICATE" && len(strings.Fields(cmd.Line)) == 3:
				if err := c.Continue(""); err != nil {
					return err
				}
				if _, err := c.ReadLine(); err != nil {
					return err
				}
			}
			if err := c.Reply(cmd.Tag, "NO [AUTHENTICATIONFAILED] no"); err != nil {
				return err
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close() })
	paddr, out, _ := startProxy(t, "--upstream", "imap://"+up.Addr())
	const pw = "PWDA\rPWDB"
	for i, c := range []struct {
		lines []string // sent one after the other, each after a "+"
	}{
		{[]string{"a1 LOGIN {11}\r\n", "USERA\rUSERB {9}\r\n", pw + "\r\n"}},
		{[]string{"a2 LOGIN user {9}\r\n", pw + "\r\n"}},
		{[]string{"a3 LOGIN user {9+}\r\n" + pw + "\r\n"}},
		{[]string{"a4 LOGIN user " + pw + "\r\n"}},
		{[]string{"a5 LOGIN user \"" + pw + "\"\r\n"}},
		{[]string{"a6 AUTHENTICATE PLAIN\r\n", pw + "\r\n"}},
		{[]string{"a7 AUTHENTICATE PLAIN " + pw + "\r\n"}},
		{[]string{"a8 LOGIN {9}\r\n", pw + " " + pw + "\r\n"}},
		// Without a CR: the control, which the redaction rule covers.
		{[]string{"a9 LOGIN user PWDA\r\n"}},
	} {
		tag := fmt.Sprintf("a%d", i+1)
		conn, r := dialProxy(t, paddr)
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		var got []string
		for j, l := range c.lines {
			if _, err := conn.Write([]byte(l)); err != nil {
				t.Fatalf("%s: %v", tag, err)
			}
			if j == len(c.lines)-1 {
				break
			}
			// The "+" before the next part (or the command's end).
			s, err := r.ReadString('\n')
			got = append(got, s)
			if err != nil || !strings.HasPrefix(s, "+") {
				break
			}
		}
		for {
			s, err := r.ReadString('\n')
			got = append(got, s)
			if err != nil || strings.HasPrefix(s, tag+" ") || strings.HasPrefix(s, "* BYE") {
				break
			}
		}
		conn.Close()
		t.Logf("%s: the client got %q", tag, got)
	}
	// The trace of each connection's end: every line printed by then.
	trace := out.String()
	for _, half := range []string{"PWDA", "PWDB"} {
		if strings.Contains(trace, half) {
			t.Errorf("%q of the password is in the proxy's trace:\n%s", half, trace)
		}
	}
	if testing.Verbose() {
		t.Logf("trace:\n%s", trace)
	}
}
