package transcript

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// fakeTB records what Start reports, so that the tests can check that the
// player fails where it must.
type fakeTB struct {
	cleanups []func()
	errors   []string
	fatal    bool
}

func (f *fakeTB) Helper()                   {}
func (f *fakeTB) Cleanup(fn func())         { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Errorf(s string, a ...any) { f.errors = append(f.errors, fmt.Sprintf(s, a...)) }
func (f *fakeTB) Fatalf(s string, a ...any) {
	f.errors = append(f.errors, fmt.Sprintf(s, a...))
	f.fatal = true
	panic(f)
}

func (f *fakeTB) runCleanups() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

// client is a minimal scripted client: it writes what it is told.
type client struct {
	conn net.Conn
	r    *bufio.Reader
}

func (c *client) send(s string) { io.WriteString(c.conn, s) }
func (c *client) line() string {
	c.conn.SetReadDeadline(time.Now().Add(ReadTimeout))
	l, _ := c.r.ReadString('\n')
	return l
}

func start(t *testing.T, tb *fakeTB, script string) (*client, func() error) {
	t.Helper()
	conn, wait := Start(tb, script)
	t.Cleanup(func() { conn.Close() })
	return &client{conn: conn, r: bufio.NewReader(conn)}, wait
}

// TestPlays plays a script with a QUIET to a client that keeps it. It runs
// in a synctest bubble: the client's pause (100 ms) outlasts the QUIET
// (50 ms) on the bubble's clock, which stands still while any goroutine can
// run. On the wall clock, a player kept off the CPU for 100 ms between
// writing "A1 OK done" and starting the QUIET saw "A2 LOGOUT" during it.
func TestPlays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tb := &fakeTB{}
		c, wait := start(t, tb, `
			# a comment
			S: * OK hi
			C: A1 NOOP
			C:
			S:
			S: A1 OK done
			QUIET 50ms
			C: A2 LOGOUT
			EOF
		`)
		if l := c.line(); l != "* OK hi\r\n" {
			t.Fatalf("greeting %q", l)
		}
		c.send("A1 NOOP\r\n\r\n")
		if l := c.line(); l != "\r\n" {
			t.Fatalf("empty line %q", l)
		}
		if l := c.line(); l != "A1 OK done\r\n" {
			t.Fatalf("answer %q", l)
		}
		time.Sleep(100 * time.Millisecond)
		c.send("A2 LOGOUT\r\n")
		c.conn.Close()
		if err := wait(); err != nil {
			t.Fatal(err)
		}
		tb.runCleanups()
		if len(tb.errors) != 0 {
			t.Fatalf("errors %q", tb.errors)
		}
	})
}

// Each case plants one fault: the player must report it.
func TestReportsFaults(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		client       func(c *client)
		want         string
	}{
		{"a C: line the client never sends", "S: * OK hi\nC: A1 NOOP\nC: A2 NOOP",
			func(c *client) { c.line(); c.send("A1 NOOP\r\n"); c.conn.Close() },
			`line 3: want "A2 NOOP\r\n"; client sent "", then EOF`},
		{"a different line", "C: A1 NOOP",
			func(c *client) { c.send("A1 NOOP \r\n") },
			`line 1: client sent "A1 NOOP \r\n"; want "A1 NOOP\r\n"`},
		{"a line after the end", "C: A1 NOOP",
			func(c *client) { c.send("A1 NOOP\r\nA2 NOOP\r\n") },
			`client sent "A2 NOOP\r\n" after the end of the script`},
		{"a final partial line", "C: A1 NOOP",
			func(c *client) { c.send("A1 NOOP\r\nA2 NO") },
			`client sent "A2 NO" after the end of the script`},
		{"a client that does not wait", "C: A1 NOOP\nQUIET 200ms\nC: A2 NOOP",
			func(c *client) { c.send("A1 NOOP\r\n"); time.Sleep(50 * time.Millisecond); c.send("A2 NOOP\r\n") },
			`line 2: the client sent "A2 NOOP\r\n" during QUIET 200ms`},
		{"a client that sends both lines at once", "C: A1 NOOP\nQUIET 200ms\nC: A2 NOOP",
			func(c *client) { c.send("A1 NOOP\r\nA2 NOOP\r\n") },
			`line 2: the client sent "A2 NOOP\r\n" during QUIET 200ms`},
		{"a client that does not close", "C: A1 NOOP\nEOF",
			func(c *client) { c.send("A1 NOOP\r\nA2 LOGOUT\r\n") },
			`line 2: want the client to close; it sent "A2 LOGOUT\r\n"`},
	} {
		// In a bubble: the client's 50 ms pause ends before the
		// 200 ms QUIET on the bubble's clock however loaded the machine
		// (on the wall clock, a client kept off the CPU for 150 ms sent
		// its second line after the QUIET).
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tb := &fakeTB{}
				c, wait := start(t, tb, tc.script)
				tc.client(c)
				err := wait()
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("wait: %v; want an error containing %q", err, tc.want)
				}
			})
		})
	}
}

// A test that ignores wait still fails, through Start's cleanup.
func TestUncheckedResultFails(t *testing.T) {
	tb := &fakeTB{}
	c, _ := start(t, tb, "C: A1 NOOP\nC: A2 NOOP")
	c.send("A1 NOOP\r\n")
	c.conn.Close()
	tb.runCleanups()
	if len(tb.errors) != 1 || !strings.Contains(tb.errors[0], "result not checked") || !strings.Contains(tb.errors[0], `"A2 NOOP\r\n"`) {
		t.Fatalf("errors %q; want the unchecked mismatch reported", tb.errors)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ script, want string }{
		{"S: * OK\nQUIET 300", `line 2: "QUIET 300": want a positive duration`},
		{"SLEEP 1x", `line 1: "SLEEP 1x": want a positive duration`},
		{"QUIET -1s", `line 1: "QUIET -1s": want a positive duration`},
		{"S:* OK", `line 1: bad directive "S:* OK"`},
		{"WAIT 1s", `line 1: bad directive "WAIT 1s"`},
	} {
		if _, err := Parse(tc.script); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q): %v; want an error containing %q", tc.script, err, tc.want)
		}
	}
	// Start fails the test before playing anything.
	tb := &fakeTB{}
	func() {
		defer func() { recover() }()
		Start(tb, "QUIET 3OOms")
	}()
	if !tb.fatal || len(tb.errors) != 1 || !strings.Contains(tb.errors[0], "line 1") {
		t.Fatalf("Start on a bad script: fatal %v errors %q", tb.fatal, tb.errors)
	}
}
