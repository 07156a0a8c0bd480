package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/wire"
)

// loadCapture reads codec/testdata/quirks/NAME.txt as the bytes on the
// wire: "#" lines are comments, every other line ends in CRLF.
func loadCapture(t *testing.T, name string) []byte {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("..", "..", "codec", "testdata", "quirks", name+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	var data []byte
	for _, l := range strings.Split(strings.TrimSuffix(string(text), "\n"), "\n") {
		if !strings.HasPrefix(l, "#") {
			data = append(append(data, l...), '\r', '\n')
		}
	}
	return data
}

// captured is one response of a capture, decoded.
type captured struct {
	off, end int64
	resp     codec.Response
	err      error
}

func decodeAll(t *testing.T, data []byte) []captured {
	t.Helper()
	d := codec.NewDecoder(wire.NewTokenizer(bytes.NewReader(data), nil), nil)
	var out []captured
	for {
		off := d.Tokenizer().Offset()
		r, err := d.Next()
		if err == io.EOF {
			return out
		}
		var de *codec.DecodeError
		if err != nil && !errors.As(err, &de) {
			t.Fatalf("the capture does not decode to its end: %v", err)
		}
		out = append(out, captured{off: off, end: d.Tokenizer().Offset(), resp: codec.CloneResponse(r), err: err})
	}
}

// TestProbeQuirksMatchCodec: every quirk probe lists is in the codec's
// capture of that server and decodes there; the capture's own greeting,
// ID and capabilities identify the server, and a plain server is not
// taken for a known one.
func TestProbeQuirksMatchCodec(t *testing.T) {
	for i := range knownServers {
		ks := &knownServers[i]
		t.Run(ks.name, func(t *testing.T) {
			data := loadCapture(t, ks.capture)
			rs := decodeAll(t, data)
			var greeting string
			var caps []string
			var id map[string]string
			for _, r := range rs {
				switch v := r.resp.(type) {
				case *codec.Status:
					if greeting == "" && v.Tag == nil && (v.Kind == codec.StatusOK || v.Kind == codec.StatusPREAUTH) {
						greeting = string(v.Text)
						if v.Code != nil {
							for _, c := range v.Code.Caps {
								caps = append(caps, string(c))
							}
						}
					}
				case *codec.ID:
					id = map[string]string{}
					for _, p := range v.Params {
						id[string(p.Name)] = string(p.Value)
					}
				}
			}
			if got := identifyServer(greeting, id, caps); got != ks {
				t.Errorf("greeting %q, ID %v, caps %v identify %v", greeting, id, caps, got)
			}
			if len(ks.quirks) == 0 {
				t.Fatal("no quirks")
			}
			for _, q := range ks.quirks {
				qdata, qrs := data, rs
				if q.capture != "" {
					qdata = loadCapture(t, q.capture)
					qrs = decodeAll(t, qdata)
				}
				at := int64(bytes.Index(qdata, []byte(q.line)))
				if q.line == "" || at < 0 {
					t.Errorf("%s: %q is not in the capture", q.text, q.line)
					continue
				}
				n := 0
				for _, r := range qrs {
					if r.end > at && r.off < at+int64(len(q.line)) {
						n++
						if r.err != nil {
							t.Errorf("%s: the codec does not decode %q: %v", q.text, qdata[r.off:r.end], r.err)
						}
					}
				}
				if n == 0 {
					t.Errorf("%s: no response holds %q", q.text, q.line)
				}
			}
		})
	}
	for _, g := range []string{"IMAP4rev1 ready", "IMAP4rev1 server ready", "ready"} {
		if ks := identifyServer(g, nil, []string{"IMAP4rev1", "IDLE"}); ks != nil {
			t.Errorf("%q is taken for %s", g, ks.name)
		}
	}
}

// TestProbeQuirksGmailScripted: a scripted server with Gmail's greeting,
// capabilities and ID: probe names it and lists its quirks.
func TestProbeQuirksGmailScripted(t *testing.T) {
	caps := "IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 UIDPLUS COMPRESS=DEFLATE ENABLE MOVE CONDSTORE ESEARCH UTF8=ACCEPT LIST-EXTENDED LIST-STATUS LITERAL- SPECIAL-USE APPENDLIMIT=35651584"
	srv, err := hostile.Listen(func(c *hostile.Conn) error {
		c.Caps = caps
		if err := c.Line("* OK Gimap ready for requests from 127.0.0.1 k2mb1234567qkb"); err != nil {
			return err
		}
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return nil
			}
			switch cmd.Name {
			case "CAPABILITY":
				err = c.Lines("* CAPABILITY IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 XYZZY SASL-IR AUTH=XOAUTH2 AUTH=PLAIN AUTH=PLAIN-CLIENTTOKEN AUTH=OAUTHBEARER",
					cmd.Tag+" OK Thats all she wrote! k2mb1234567qkb")
			case "LOGIN", "AUTHENTICATE":
				err = c.Lines("* CAPABILITY "+caps, cmd.Tag+" OK alice@example.com authenticated (Success)")
			case "ID":
				err = c.Lines(`* ID ("name" "GImap" "vendor" "Google, Inc." "support-url" "https://support.google.com/mail" "version" "gmail_imap_150623.03_p1" "remote-host" "127.0.0.1")`,
					cmd.Tag+" OK Success k2mb1234567qkb")
			case "NAMESPACE":
				err = c.Lines(`* NAMESPACE (("" "/")) NIL NIL`, cmd.Tag+" OK Success k2mb1234567qkb")
			case "LIST":
				err = c.Lines(`* LIST (\HasNoChildren) "/" "INBOX"`,
					`* LIST (\All \HasNoChildren) "/" "[Gmail]/All Mail"`,
					`* LIST (\HasNoChildren \Sent) "/" "[Gmail]/Sent Mail"`,
					`* LIST (\HasNoChildren \Trash) "/" "[Gmail]/Trash"`,
					cmd.Tag+" OK Success k2mb1234567qkb")
			case "LOGOUT":
				return c.Lines("* BYE LOGOUT Requested", cmd.Tag+" OK 73 good day (Success)")
			default:
				err = c.Reply(cmd.Tag, "BAD Unknown command k2mb1234567qkb")
			}
			if err != nil {
				return nil
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	setEnv(t, "IMAPKIT_PASSWORD", "secret-gmail-pw")
	url := "imap://alice@" + srv.Addr()
	out, _ := cli(t, "", 0, "probe", url, "--timeout", "10s")
	for _, want := range []string{"server", "Gmail (the codec knows its quirks)", "quirk", `a bare "* ESEARCH" for an empty result`, "id name", "GImap", `special-use \Sent`, "[Gmail]/Sent Mail", "X-GM-EXT-1"} {
		if !strings.Contains(out, want) {
			t.Errorf("probe: no %q in\n%s", want, out)
		}
	}
	out, _ = cli(t, "", 0, "probe", url, "--timeout", "10s", "--json")
	var r probeResult
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Server != "Gmail" || len(r.Quirks) != len(knownServers[0].quirks) || r.ID["vendor"] != "Google, Inc." || r.TLS != "none" {
		t.Errorf("probe --json: %q (%v)", out, err)
	}
	if strings.Contains(out, "secret-gmail-pw") {
		t.Errorf("the password is in the output")
	}
	if err := srv.Err(); err != nil {
		t.Error(err)
	}
}

// TestProbeQuirksCyrus: probe against the real Cyrus names it.
func TestProbeQuirksCyrus(t *testing.T) {
	t.Parallel()
	cy := testserver.StartCyrusT(t)
	setEnv(t, "IMAPKIT_PASSWORD", testserver.Password)
	url := fmt.Sprintf("imap://%s@%s", testserver.Alice, cy.Addr)
	out, _ := cli(t, "", 0, "probe", url, "--timeout", "20s", "--insecure-plaintext", "--json")
	var r probeResult
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Server != "Cyrus IMAP" || len(r.Quirks) != 4 || !strings.Contains(strings.Join(r.Quirks, "|"), "64-bit HIGHESTMODSEQ") {
		t.Errorf("probe --json against Cyrus: %q (%v)", out, err)
	}
	out, _ = cli(t, "", 0, "probe", url, "--timeout", "20s", "--insecure-plaintext")
	if !strings.Contains(out, "Cyrus IMAP (the codec knows its quirks)") || !strings.Contains(out, "quirk  ") {
		t.Errorf("probe against Cyrus:\n%s", out)
	}
}

// TestProbeQuirksDovecot: probe against the real Dovecot names it, in the
// table and in --json.
func TestProbeQuirksDovecot(t *testing.T) {
	t.Parallel()
	srv, cf := dovecot(t, 1)
	plain, tls := urls(srv)
	out, _ := cli(t, "", 0, append([]string{"probe", plain}, cf...)...)
	if !strings.Contains(out, "Dovecot (the codec knows its quirks)") || !strings.Contains(out, "VANISHED (EARLIER)") || !strings.Contains(out, "id name") {
		t.Errorf("probe against Dovecot:\n%s", out)
	}
	out, _ = cli(t, "", 0, append([]string{"probe", tls, "--json"}, cf...)...)
	var r probeResult
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Server != "Dovecot" || len(r.Quirks) != 1 || r.ID["name"] != "Dovecot" {
		t.Errorf("probe --json against Dovecot: %q (%v)", out, err)
	}
}

// TestProbeNamespaceRefused: a server advertising NAMESPACE (or
// LIST's RETURN options) that answers NO or BAD made probe exit 1 with
// nothing described; now the refusal is reported beside the rest.
func TestProbeNamespaceRefused(t *testing.T) {
	srv, err := hostile.Listen(func(c *hostile.Conn) error {
		c.Caps = "IMAP4rev1 NAMESPACE SPECIAL-USE LIST-EXTENDED"
		if err := c.Greet(c.Caps); err != nil {
			return err
		}
		for {
			cmd, err := c.ReadCommand()
			if err != nil {
				return nil
			}
			switch cmd.Name {
			case "CAPABILITY":
				err = c.Lines("* CAPABILITY "+c.Caps, cmd.Tag+" OK done")
			case "LOGIN":
				err = c.Reply(cmd.Tag, "OK logged in")
			case "NAMESPACE":
				err = c.Reply(cmd.Tag, "NO [UNAVAILABLE] namespaces are off today")
			case "LIST":
				err = c.Reply(cmd.Tag, "BAD RETURN not understood")
			case "LOGOUT":
				return c.Lines("* BYE bye", cmd.Tag+" OK done")
			default:
				err = c.Reply(cmd.Tag, "BAD Unknown command")
			}
			if err != nil {
				return nil
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	setEnv(t, "IMAPKIT_PASSWORD", "pw")
	url := "imap://alice@" + srv.Addr()
	out, _ := cli(t, "", 0, "probe", url, "--timeout", "10s")
	for _, want := range []string{"refused NAMESPACE", "namespaces are off today", "refused LIST", "RETURN not understood", "capabilities (after login)"} {
		if !strings.Contains(out, want) {
			t.Errorf("probe: no %q in\n%s", want, out)
		}
	}
	out, _ = cli(t, "", 0, "probe", url, "--timeout", "10s", "--json")
	var r probeResult
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Namespaces != nil || !strings.Contains(r.Refused["NAMESPACE"], "NO") || !strings.Contains(r.Refused["LIST"], "BAD") {
		t.Errorf("probe --json: %q (%v)", out, err)
	}
}

// TestProbeIDWithoutAnswer: a server advertising ID that answers it OK
// without "* ID" (commands.ID's *MissingError since it stopped returning
// nil, nil) leaves the probe without an ID; the probe describes the rest
// and exits 0.
func TestProbeIDWithoutAnswer(t *testing.T) {
	srv, err := hostile.Listen(func(c *hostile.Conn) error {
		c.Caps = "IMAP4rev1 ID"
		if err := c.Greet(c.Caps); err != nil {
			return err
		}
		// hostile's Answer answers ID (and LOGIN) with OK alone: no
		// "* ID".
		cmd, err := c.Until("LIST")
		if err != nil {
			return nil
		}
		if err := c.Lines(`* LIST () "/" INBOX`, cmd.Tag+" OK done"); err != nil {
			return nil
		}
		return c.Serve()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	setEnv(t, "IMAPKIT_PASSWORD", "pw")
	out, _ := cli(t, "", 0, "probe", "imap://alice@"+srv.Addr(), "--timeout", "10s", "--json")
	var r probeResult
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.ID != nil || r.MailboxesTotal != 1 {
		t.Errorf("probe --json: %q (%v); want no id and the one mailbox", out, err)
	}
}
