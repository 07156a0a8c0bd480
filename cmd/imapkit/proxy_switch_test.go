package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/wire"
)

// TestProxySwitchCompletionNotTokenized: a server's completion of
// COMPRESS (or STARTTLS) that does not tokenize ("a1 NO [X "y] ...", an
// unmatched quote in its code) was relayed by the syntax-error path,
// which never ended it as a completion: the client's direction waited for
// the server's answer to COMPRESS until the connection ended, and the
// client's next command was never relayed. Now the line is ended as any
// other: after a NO the session goes on; after an OK the rest of the
// connection is relayed without decoding it. Defaults.
func TestProxySwitchCompletionNotTokenized(t *testing.T) {
	t.Parallel()
	for _, status := range []string{"NO", "OK"} {
		t.Run(status, func(t *testing.T) {
			addr := answerUpstream(t, func(tag string) string {
				if tag == "a1" {
					return tag + " " + status + " [X \"y] compress\r\n"
				}
				return tag + " OK done\r\n"
			})
			paddr, out, _ := startProxy(t, "--upstream", "imap://"+addr)
			c, r := dialProxy(t, paddr)
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

// TestProxySwitchOnLineClientRefuses: a line that does not tokenize
// ("a1 OK\"x") ended through endServerLine with the Event of the tokens
// read before the error (a1 SP OK): the proxy took it for COMPRESS's OK
// and relayed the rest raw, while an imapkit client reads the line as a
// response that does not decode (expected SP after OK) and goes on
// uncompressed. The proxy now closes the connection on such a completion
// of an awaited STARTTLS or COMPRESS; a NO that does not tokenize still
// ends the wait, and the session goes on.
func TestProxySwitchOnLineClientRefuses(t *testing.T) {
	t.Parallel()
	for _, ans := range []string{"a1 OK\"x\r\n", "a1 OK\x01\"\r\n", "a1 OK{x\r\n"} {
		d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(ans), nil), nil)
		if r, err := d.Next(); err == nil {
			t.Fatalf("the client reads %q as %#v", ans, r)
		}
		addr := answerUpstream(t, func(tag string) string {
			if tag == "a1" {
				return ans
			}
			return tag + " OK done\r\n"
		})
		paddr, out, _ := startProxy(t, "--upstream", "imap://"+addr)
		c, r := dialProxy(t, paddr)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "a1 COMPRESS DEFLATE\r\n")
		r.ReadString('\n')
		fmt.Fprintf(c, "a2 NOOP\r\n")
		l, err := r.ReadString('\n')
		if err == nil || strings.Contains(out.String(), "COMPRESS=DEFLATE active") {
			t.Errorf("%q: next %q %v; trace:\n%.2000s", ans, l, err, out.String())
		}
	}
	// A NO that does not tokenize: the client reads an error too, and
	// neither side switches: the wait ends, the session goes on.
	addr := answerUpstream(t, func(tag string) string {
		if tag == "a1" {
			return "a1 NO\"x\r\n"
		}
		return tag + " OK done\r\n"
	})
	paddr, out, _ := startProxy(t, "--upstream", "imap://"+addr)
	c, r := dialProxy(t, paddr)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "a1 COMPRESS DEFLATE\r\n")
	r.ReadString('\n')
	fmt.Fprintf(c, "a2 NOOP\r\n")
	if l, err := r.ReadString('\n'); err != nil || l != "a2 OK done\r\n" {
		t.Errorf("after a NO: %q %v; trace:\n%.2000s", l, err, out.String())
	}
}

// TestProxyUnspacedOKClientRefuses: a completion of an awaited
// COMPRESS that tokenizes but has no SP after the status word ("a1
// OK{5}" and a literal, "a1 OK(x)", "a1 OK[ALERT] x", "a1 OK\"x\"",
// "a1 OK]") or begins with a space (" a1 OK x") got an OK Event from the
// Dialog, and the proxy switched to COMPRESS, while an imapkit client
// reads each line as a DecodeError and goes on uncompressed. The proxy
// now closes the connection on such a completion. Lines the codec reads
// as OK ("a1 OK" with no text, "a1 OK [ALERT] x", "a1 ok x", two spaces
// after the tag) still switch. Defaults.
func TestProxyUnspacedOKClientRefuses(t *testing.T) {
	t.Parallel()
	compress := func(ans string) (got []string, active bool) {
		t.Helper()
		addr := answerUpstream(t, func(tag string) string {
			if tag == "a1" {
				return ans
			}
			return tag + " OK done\r\n"
		})
		paddr, out, _ := startProxy(t, "--upstream", "imap://"+addr)
		c, r := dialProxy(t, paddr)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "a1 COMPRESS DEFLATE\r\n")
		fmt.Fprintf(c, "a2 NOOP\r\n")
		for {
			l, err := r.ReadString('\n')
			if l != "" {
				got = append(got, l)
			}
			if err != nil || strings.HasPrefix(l, "a2 ") {
				break
			}
		}
		return got, strings.Contains(out.String(), "COMPRESS=DEFLATE active")
	}
	decodes := func(ans string) bool {
		d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(ans), nil), nil)
		r, err := d.Next()
		s, ok := r.(*codec.Status)
		return err == nil && ok && s.Kind == codec.StatusOK
	}
	for _, ans := range []string{
		"a1 OK{5}\r\n12345\r\n",
		"a1 OK(x)\r\n",
		"a1 OK[ALERT] x\r\n",
		"a1 OK\"x\"\r\n",
		"a1 OK]\r\n",
		" a1 OK x\r\n",
	} {
		if decodes(ans) {
			t.Fatalf("the client reads %q as OK", ans)
		}
		got, active := compress(ans)
		if active || len(got) > 0 && strings.HasPrefix(got[len(got)-1], "a2 ") {
			t.Errorf("%q: the proxy switched (active %v), the client would not: %q", ans, active, got)
		}
	}
	for _, ans := range []string{
		"a1 OK\r\n",
		"a1 OK \r\n",
		"a1 OK [ALERT] x\r\n",
		"a1 ok x\r\n",
		"a1  OK x\r\n",
	} {
		if !decodes(ans) {
			t.Fatalf("the client does not read %q as OK", ans)
		}
		if got, active := compress(ans); !active {
			t.Errorf("%q: the proxy did not switch: %q", ans, got)
		}
	}
	// A NO of that shape: neither side switches, the session goes on.
	if got, active := compress("a1 NO(x)\r\n"); active || len(got) == 0 || got[len(got)-1] != "a2 OK done\r\n" {
		t.Errorf("after a NO: %q (active %v)", got, active)
	}
}

// TestProxyUnspacedOverLongOK (found by review): a COMPRESS completion "a1 OK <text>" whose
// line passes the line bound (1 MiB) is read by the codec as a
// DecodeError (line too long): an imapkit client does not switch. The
// proxy, whose Dialog saw the tokens "a1 SP OK SP" before the long text,
// has Event.Unspaced false and switches to COMPRESS. Event.Unspaced's
// contract ("an OK the codec would not read as OK") does not hold for
// such a line; the proxy should close as for an unspaced OK. Defaults.
func TestProxyUnspacedOverLongOK(t *testing.T) {
	t.Parallel()
	for _, ans := range []string{
		"a1 OK " + strings.Repeat("x", 1<<20+4096) + "\r\n",
		"a1 OK [ALERT] " + strings.Repeat("x", 1<<20+4096) + "\r\n",
	} {
		d := codec.NewDecoder(wire.NewTokenizer(strings.NewReader(ans), nil), nil)
		r, err := d.Next()
		if s, ok := r.(*codec.Status); err == nil && ok && s.Kind == codec.StatusOK {
			t.Fatalf("the client reads the long line as OK")
		}
		addr := answerUpstream(t, func(tag string) string {
			if tag == "a1" {
				return ans
			}
			return tag + " OK done\r\n"
		})
		paddr, out, _ := startProxy(t, "--upstream", "imap://"+addr)
		c, rd := dialProxy(t, paddr)
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

// eagerStartTLSConn is a client that pipelines STARTTLS: its first Write
// (a TLS ClientHello) goes in one write behind prefix ("a1 STARTTLS\r\n"
// and what else it pipelines), and its first Read takes the tagged answer
// to STARTTLS, a line in the clear (answer), before the TLS records.
type eagerStartTLSConn struct {
	net.Conn
	br     *bufio.Reader
	prefix string
	wrote  bool
	answer string
}

func (c *eagerStartTLSConn) Write(p []byte) (int, error) {
	if c.wrote {
		return c.Conn.Write(p)
	}
	c.wrote = true
	if _, err := c.Conn.Write(append([]byte(c.prefix), p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *eagerStartTLSConn) Read(p []byte) (int, error) {
	if c.answer == "" {
		l, err := c.br.ReadString('\n')
		c.answer = l
		if err != nil {
			return 0, err
		}
	}
	return c.br.Read(p)
}

// TestProxyStartTLSPipelinedRefused: a client that sends bytes behind
// its STARTTLS before the tagged OK (its TLS ClientHello at once, or
// commands in the clear: the command injection of CVE-2011-0411) has
// them read ahead with the STARTTLS line; they are dropped at the switch,
// lest bytes sent in the clear pass for ones sent over TLS. Before, the
// STARTTLS went upstream all the same and the proxy's handshake waited
// for the ClientHello it had dropped: the client, waiting for the
// server's hello, hung for the --timeout and got no word of why. Now the
// STARTTLS is not relayed: the client gets a tagged BAD, then a BYE, and
// the connection's end at once, and the trace says why; the server gets
// neither the STARTTLS nor what followed it. In a synctest bubble, in
// memory, with the defaults: the bubble's clock shows the wait, its end
// any goroutine left.
func TestProxyStartTLSPipelinedRefused(t *testing.T) {
	for _, tc := range []struct {
		name, prefix string
		hello        bool // the client's TLS ClientHello follows prefix
	}{
		{"a ClientHello", "a1 STARTTLS\r\n", true},
		{"a command", "a1 STARTTLS\r\na2 NOOP\r\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tlsCfg, clientCfg := localhostTLS(t)
				var got bytes.Buffer
				client, trace, done := pipeProxySession(t, func(c net.Conn) {
					io.WriteString(c, "* OK ready\r\n")
					br := bufio.NewReader(io.TeeReader(c, &got))
					l, err := br.ReadString('\n')
					if err != nil || !strings.HasPrefix(l, "a1 STARTTLS") {
						io.Copy(io.Discard, br)
						return
					}
					io.WriteString(c, "a1 OK begin TLS\r\n")
					tc := tls.Server(c, tlsCfg)
					tc.Handshake()
					io.Copy(io.Discard, tc)
				}, func(cfg *proxyConfig) {
					cfg.downTLS = tlsCfg
					cfg.upstreamTLS = clientCfg
				})
				br := bufio.NewReader(client)
				if l, err := br.ReadString('\n'); err != nil || l != "* OK ready\r\n" {
					t.Fatalf("greeting %q (%v)", l, err)
				}
				start := time.Now()
				var answer, rest string
				if tc.hello {
					ec := &eagerStartTLSConn{Conn: client, br: br, prefix: tc.prefix}
					c := tls.Client(ec, clientCfg.Clone())
					if err := c.Handshake(); err == nil {
						t.Errorf("the client's TLS handshake went through")
					}
					answer = ec.answer
					b, _ := io.ReadAll(br)
					rest = string(b)
				} else {
					io.WriteString(client, tc.prefix)
					answer, _ = br.ReadString('\n')
					b, _ := io.ReadAll(br)
					rest = string(b)
				}
				<-done
				const bad = "a1 BAD imapkit proxy: bytes sent after STARTTLS before its completion are not relayed; closing\r\n"
				if answer != bad {
					t.Errorf("the client's answer to STARTTLS: %q; want %q; trace:\n%s", answer, bad, trace.String())
				}
				if tc.hello {
					rest = "" // (the TLS client read the BYE as a record)
				}
				if want := "* BYE imapkit proxy: bytes sent after STARTTLS before its completion: closing\r\n"; !tc.hello && rest != want {
					t.Errorf("after the answer the client read %q; want %q", rest, want)
				}
				if took := time.Since(start); took >= 30*time.Second {
					t.Errorf("the client's STARTTLS ended %v after it was sent; want at once, not at the --timeout", took)
				}
				const why = "bytes sent after STARTTLS before its completion (a TLS handshake begun early, or commands): not relayed; closing"
				if s := trace.String(); !strings.Contains(s, why) {
					t.Errorf("the trace lacks %q:\n%s", why, s)
				}
				synctest.Wait()
				if got.Len() > 0 {
					t.Errorf("the server read %q; want nothing", got.String())
				}
			})
		})
	}
}
