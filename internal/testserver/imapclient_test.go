package testserver

import (
	"bufio"
	"compress/flate"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// client is a minimal IMAP client for the tests: it sends tagged commands
// and collects response lines (literals inlined).
type client struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
	w    io.Writer
	fw   *flate.Writer // after COMPRESS DEFLATE
	tag  int
}

func dialPlain(t testing.TB, addr string) (*client, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	return newClient(t, c)
}

func dialTLS(t testing.TB, addr string, cfg *tls.Config) (*client, string) {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		t.Fatalf("TLS dial %s: %v", addr, err)
	}
	return newClient(t, c)
}

func newClient(t testing.TB, c net.Conn) (*client, string) {
	t.Helper()
	t.Cleanup(func() { c.Close() })
	cl := &client{t: t, conn: c, r: bufio.NewReader(c), w: c}
	c.SetDeadline(time.Now().Add(60 * time.Second))
	greeting := cl.readLine()
	if !strings.HasPrefix(greeting, "* OK") && !strings.HasPrefix(greeting, "* PREAUTH") {
		t.Fatalf("bad greeting %q", greeting)
	}
	return cl, greeting
}

// readLine reads one response line; literals {n} are read and inlined.
func (c *client) readLine() string {
	c.t.Helper()
	var b strings.Builder
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("read: %v (so far %q)", err, b.String()+line)
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		b.WriteString(line)
		if n, ok := literalSize(line); ok {
			buf := make([]byte, n)
			if _, err := io.ReadFull(c.r, buf); err != nil {
				c.t.Fatalf("read literal: %v", err)
			}
			b.Write(buf)
			continue
		}
		return b.String()
	}
}

func literalSize(line string) (int, bool) {
	if !strings.HasSuffix(line, "}") {
		return 0, false
	}
	i := strings.LastIndexByte(line, '{')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(line[i+1:len(line)-1], "+"))
	return n, err == nil
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.w, s); err != nil {
		c.t.Fatalf("write: %v", err)
	}
	if c.fw != nil {
		if err := c.fw.Flush(); err != nil {
			c.t.Fatalf("flush: %v", err)
		}
	}
}

// cmd sends a command and returns the untagged lines and the tagged status
// line (without the tag).
func (c *client) cmd(format string, args ...any) (untagged []string, status string) {
	c.t.Helper()
	c.tag++
	tag := fmt.Sprintf("a%d", c.tag)
	c.send(tag + " " + fmt.Sprintf(format, args...) + "\r\n")
	return c.collect(tag)
}

func (c *client) collect(tag string) (untagged []string, status string) {
	c.t.Helper()
	for {
		line := c.readLine()
		if strings.HasPrefix(line, tag+" ") {
			return untagged, strings.TrimPrefix(line, tag+" ")
		}
		untagged = append(untagged, line)
	}
}

// ok runs a command that must succeed.
func (c *client) ok(format string, args ...any) []string {
	c.t.Helper()
	u, st := c.cmd(format, args...)
	if !strings.HasPrefix(st, "OK") {
		c.t.Fatalf("%s: %s (untagged %q)", fmt.Sprintf(format, args...), st, u)
	}
	return u
}

func (c *client) login(user, pass string) {
	c.t.Helper()
	c.ok("LOGIN %s %s", quote(user), quote(pass))
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// capabilities runs CAPABILITY and returns the set of capabilities.
func (c *client) capabilities() map[string]bool {
	c.t.Helper()
	caps := map[string]bool{}
	for _, l := range c.ok("CAPABILITY") {
		if strings.HasPrefix(l, "* CAPABILITY ") {
			for _, f := range strings.Fields(strings.TrimPrefix(l, "* CAPABILITY ")) {
				caps[strings.ToUpper(f)] = true
			}
		}
	}
	return caps
}

// exists selects mailbox and returns its EXISTS count.
func (c *client) selectMailbox(mailbox string) int {
	c.t.Helper()
	n := -1
	for _, l := range c.ok("SELECT %s", quote(mailbox)) {
		var k int
		if _, err := fmt.Sscanf(l, "* %d EXISTS", &k); err == nil {
			n = k
		}
	}
	if n < 0 {
		c.t.Fatalf("SELECT %s: no EXISTS", mailbox)
	}
	return n
}

// startCompress sends COMPRESS DEFLATE and wraps the connection.
func (c *client) startCompress() {
	c.t.Helper()
	c.ok("COMPRESS DEFLATE")
	fw, err := flate.NewWriter(c.conn, flate.DefaultCompression)
	if err != nil {
		c.t.Fatal(err)
	}
	c.fw = fw
	c.w = fw
	c.r = bufio.NewReader(flate.NewReader(c.conn))
}
