package hostile

import (
	"bufio"
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/internal/leakcheck"
)

// hsNoGoroutines fails if goroutines of this package's server are left.
func hsNoGoroutines(t *testing.T) {
	t.Helper()
	// A goroutine that ran its last deferred call (wg.Done) may still be
	// listed for a moment: look again, up to leakcheck.Hang.
	var left []string
	leakcheck.Until(leakcheck.Hang, func() bool {
		left = left[:0]
		for _, g := range leakcheck.Stacks() {
			if strings.Contains(g, "hostile.(*Server)") || strings.Contains(g, "hostile.(*Conn)") {
				left = append(left, g)
			}
		}
		return len(left) == 0
	})
	for _, g := range left {
		t.Errorf("goroutine of the server left:\n%s", g)
	}
}

// TestHostileServerScript: a scenario over TCP reads commands, answers,
// and Close leaves no goroutine, even with a scenario stalled.
func TestHostileServerScript(t *testing.T) {
	srv, err := Listen(func(c *Conn) error {
		if err := c.PreAuth("IMAP4rev1 X-TEST"); err != nil {
			return err
		}
		cmd, err := c.Until("NOOP")
		if err != nil {
			return err
		}
		if err := c.Reply(cmd.Tag, "OK noop"); err != nil {
			return err
		}
		return c.Stall()
	})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(nc)
	io.WriteString(nc, "a1 capability\r\na2 NOOP\r\n")
	var got []string
	for i := 0; i < 3; i++ {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.TrimRight(line, "\r\n"))
	}
	want := []string{"* PREAUTH [CAPABILITY IMAP4rev1 X-TEST] hostile server, logged in",
		"* CAPABILITY IMAP4rev1 X-TEST", "a1 OK CAPABILITY completed"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got %q; want %q", got, want)
	}
	if line, _ := r.ReadString('\n'); line != "a2 OK noop\r\n" {
		t.Fatalf("NOOP answered %q", line)
	}
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not interrupt a stalled scenario")
	}
	if err := srv.Err(); err != nil {
		t.Errorf("Err: %v", err)
	}
	if srv.Conns() != 1 {
		t.Errorf("Conns = %d", srv.Conns())
	}
	hsNoGoroutines(t)
}

// TestHostileServerErrors: a script that the client does not follow
// reports an error; a client that hangs up does not.
func TestHostileServerErrors(t *testing.T) {
	client, srv := Pipe(func(c *Conn) error {
		_, err := c.Expect("LOGIN")
		return err
	})
	io.WriteString(client, "a1 NOOP\r\n")
	client.Close()
	hsWaitConns(t, srv, 1)
	srv.Close()
	if err := srv.Err(); err == nil || errors.Is(err, ErrGone) {
		t.Errorf("Err = %v; want the script's error", err)
	}
	client, srv = Pipe(func(c *Conn) error {
		_, err := c.Copy(Endless("* OK ", "a"))
		return err
	})
	client.Read(make([]byte, 100))
	client.Close()
	srv.Close()
	if err := srv.Err(); err != nil {
		t.Errorf("Err after the client hung up on an endless line: %v", err)
	}
	hsNoGoroutines(t)
}

// hsWaitConns waits until srv has served n connections, up to
// leakcheck.Hang (a bound against a hang; it was 5 s).
func hsWaitConns(t *testing.T, srv *Server, n int) {
	t.Helper()
	if !leakcheck.Until(leakcheck.Hang, func() bool { return srv.Conns() >= n }) {
		t.Fatalf("the server served %d connections; want %d", srv.Conns(), n)
	}
}

// TestHostileStreams: the lazy readers produce what they say.
func TestHostileStreams(t *testing.T) {
	b, _ := io.ReadAll(Repeat("ab", 3))
	if string(b) != "ababab" {
		t.Errorf("Repeat: %q", b)
	}
	b, _ = io.ReadAll(Nested("<", "(", ")", 3, ">"))
	if string(b) != "<((()))>" {
		t.Errorf("Nested: %q", b)
	}
	b, _ = io.ReadAll(Generate(2, func(i int64) string { return strings.Repeat("x", int(i)+1) }))
	if string(b) != "x\r\nxx\r\n" {
		t.Errorf("Generate: %q", b)
	}
	b, _ = io.ReadAll(io.LimitReader(Endless("* OK ", "a"), 8))
	if string(b) != "* OK aaa" {
		t.Errorf("Endless: %q", b)
	}
	x, _ := io.ReadAll(Random(1, 1000))
	y, _ := io.ReadAll(Random(1, 1000))
	if len(x) != 1000 || !bytes.Equal(x, y) {
		t.Errorf("Random: %d bytes, reproducible %v", len(x), bytes.Equal(x, y))
	}
	if ParseCommand("A1 uid fetch 1:* (FLAGS)").Name != "UID FETCH" {
		t.Error("ParseCommand: UID FETCH")
	}
	if c := ParseCommand("A2 APPEND INBOX {12+}"); c.Literal != 12 || !c.NonSync {
		t.Errorf("ParseCommand: literal %d nonsync %v", c.Literal, c.NonSync)
	}
}

// TestHostileDeflateBomb: the bomb inflates to exactly the pattern asked
// for (prefix, then 5 MiB + 3 bytes of the unit), and a line written
// after it is still read right: the replayed block keeps the stream valid.
func TestHostileDeflateBomb(t *testing.T) {
	const total = 5<<20 + 3*8
	unit := "* OK x\r\n"
	var written int64
	client, srv := Pipe(func(c *Conn) error {
		defer func() { written = c.Written() }()
		if err := c.Deflate(); err != nil {
			return err
		}
		if err := c.DeflateBomb([]byte("PREFIX\r\n"), []byte(unit), total); err != nil {
			return err
		}
		if err := c.Line("A1 OK done"); err != nil {
			return err
		}
		return c.Stall()
	})
	defer srv.Close()
	zr := bufio.NewReader(flate.NewReader(client))
	line, err := zr.ReadString('\n')
	if err != nil || line != "PREFIX\r\n" {
		t.Fatalf("prefix: %q, %v", line, err)
	}
	buf := make([]byte, len(unit))
	for n := 0; n < total; n += len(unit) {
		if _, err := io.ReadFull(zr, buf); err != nil || string(buf) != unit {
			t.Fatalf("at %d: %q, %v", n, buf, err)
		}
	}
	if line, err := zr.ReadString('\n'); err != nil || line != "A1 OK done\r\n" {
		t.Fatalf("after the bomb: %q, %v", line, err)
	}
	client.Close()
	srv.Close()
	// About 1 KiB per MiB: the server sent little.
	t.Logf("%d bytes inflated from %d", total, written)
	if written > total/200 {
		t.Errorf("the server wrote %d bytes for %d inflated; want a ratio over 200", written, total)
	}
	hsNoGoroutines(t)
}

// TestAnswerEmptySearch: Answer gives SEARCH, SORT and THREAD the empty
// untagged answer the RFCs require (a client may refuse a bare OK), an
// ESEARCH with the command's tag (and UID for a UID form) when RETURN was
// asked.
func TestAnswerEmptySearch(t *testing.T) {
	for line, want := range map[string]string{
		"a1 SEARCH UNSEEN":                        "* SEARCH",
		"a1 uid search ALL":                       "* SEARCH",
		"a1 SORT (DATE) UTF-8 ALL":                "* SORT",
		"a1 UID THREAD REFERENCES UTF-8 ALL":      "* THREAD",
		"a1 SEARCH RETURN (COUNT) ALL":            `* ESEARCH (TAG "a1")`,
		"a2 UID SEARCH RETURN () ALL":             `* ESEARCH (TAG "a2") UID`,
		"a3 UID SORT RETURN (ALL) (DATE) UTF-8 1": `* ESEARCH (TAG "a3") UID`,
	} {
		if got := emptySearchAnswer(ParseCommand(line)); got != want {
			t.Errorf("%s: answered %q; want %q", line, got, want)
		}
	}
}
