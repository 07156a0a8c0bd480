package commands_test

// Reproducers of the server-quirks audit: quirks of real servers that bit
// users of other IMAP libraries, replayed through commands.Client.

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

// TestReview39QGmailAttributesLost: FetchItems.Raw's own example is
// "X-GM-LABELS". Gmail answers with X-GM-LABELS, X-GM-MSGID and
// X-GM-THRID; the codec decodes all three (codec.Fetch.GmailLabels,
// GmailMsgID, GmailThreadID), so they are not in Message.Unknown, and
// Message has no field for them: the caller sees Has(FetchGmailLabels)
// true and no labels anywhere. Same for SAVEDATE (RFC 8514).
func TestReview39QGmailAttributesLost(t *testing.T) {
	c, ctx := zqClient(t, "IMAP4rev1 X-GM-EXT-1", map[string]string{
		"UID FETCH": `* 1 FETCH (X-GM-THRID 1266894439832287888 X-GM-MSGID 1278455344230334865 X-GM-LABELS (\Important "[Gmail]/Sent Mail" Work) UID 4 SAVEDATE "10-Jul-2026 06:02:11 +0000")` + "\r\n",
	})
	ms, err := c.FetchAll(ctx, commands.UIDs(4), &commands.FetchItems{UID: true, Raw: "X-GM-LABELS X-GM-MSGID X-GM-THRID SAVEDATE"})
	if err != nil || len(ms) != 1 {
		t.Fatalf("FetchAll: %d messages, %v", len(ms), err)
	}
	m := ms[0]
	if !m.Has(codec.FetchGmailLabels) || !m.Has(codec.FetchGmailMsgID) || !m.Has(codec.FetchGmailThreadID) || !m.Has(codec.FetchSaveDate) {
		t.Fatalf("Items %b: the attributes are not even marked", m.Items)
	}
	// Wherever a fix puts them (new fields, Unknown), the values must be
	// somewhere in the Message.
	js, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Work", "[Gmail]/Sent Mail", "Important", "1278455344230334865", "1266894439832287888", "10-Jul-2026|2026-07-10"} {
		found := false
		for _, w := range strings.Split(want, "|") {
			found = found || strings.Contains(string(js), w)
		}
		if !found {
			t.Errorf("the message says it has X-GM-LABELS, X-GM-MSGID, X-GM-THRID and SAVEDATE (Items %b), yet %q is nowhere in it: %s", m.Items, want, js)
		}
	}
}

// TestReview39QListNameNotReachable: servers that do not encode mailbox names
// in modified UTF-7 (an unescaped "&" as in "R&D", raw UTF-8 without
// UTF8=ACCEPT; codec.DecodeMailboxLenient's own examples) list names that
// MailboxInfo.Name decodes leniently; passing that Name back to Select
// (or Status, Delete, ... and `imapkit copy`, which selects each listed
// name) re-encodes it into another name: "R&-D", "Tom &- Jerry". On such
// a server that is no mailbox (NO), or another one. The name the server
// listed must go back as it was listed.
func TestReview39QListNameNotReachable(t *testing.T) {
	seen := make(chan string, 100)
	c, ctx := zqOpen(t, "* PREAUTH [CAPABILITY IMAP4rev1] fake", map[string]string{
		"LIST":   "* LIST (\\HasNoChildren) \"/\" \"R&D\"\r\n* LIST (\\HasNoChildren) \"/\" \"Tom & Jerry\"\r\n",
		"SELECT": "* 0 EXISTS\r\n",
	}, seen)
	boxes, err := c.List(ctx, "*", nil)
	if err != nil || len(boxes) != 2 {
		t.Fatalf("List: %v, %d", err, len(boxes))
	}
	for _, b := range boxes {
		if _, err := c.Select(ctx, b.Name, nil); err != nil {
			t.Fatalf("Select(%q): %v", b.Name, err)
		}
	}
	var selects []string
	for len(selects) < 2 {
		select {
		case l := <-seen:
			if strings.Contains(l, " SELECT ") {
				selects = append(selects, l)
			}
		case <-ctx.Done():
			t.Fatal("no SELECT seen")
		}
	}
	for i, b := range boxes {
		if want := string(b.Raw); !strings.Contains(selects[i], " "+want+"\r\n") && !strings.Contains(selects[i], ` "`+want+`"`) {
			t.Errorf("LIST gave %q (Name %q); Select(Name) sent %q: a name the server never listed", want, b.Name, selects[i])
		}
	}
}

// TestReview39QListOneBadLineLosesAll: one LIST line the codec cannot decode
// (here a delimiter sent as the quoted string "NIL", reported of Courier
// and SmarterMail; the codec takes NIL and "" for "no delimiter" but
// refuses a delimiter of three characters) makes List return no mailbox
// at all: every well-formed mailbox of the answer is dropped with it
// (commands/list.go: List returns nil on any error but
// ResultTooLargeError), where FetchAll keeps the messages it decoded and
// returns them with the error. `imapkit copy` and `list` then see an
// account with no mailbox but an error. The session survives.
func TestReview39QListOneBadLineLosesAll(t *testing.T) {
	c, ctx := zqOpen(t, "* PREAUTH [CAPABILITY IMAP4rev1] fake", map[string]string{
		"LIST": "* LIST (\\HasNoChildren) \"/\" INBOX\r\n* LIST (\\HasNoChildren) \"NIL\" \"Archive\"\r\n* LIST (\\HasNoChildren) \"/\" Sent\r\n",
	}, nil)
	boxes, err := c.List(ctx, "*", nil)
	names := map[string]bool{}
	for _, b := range boxes {
		names[b.Name] = true
	}
	if !names["INBOX"] || !names["Sent"] {
		t.Errorf("List returned %d mailboxes (%v), err %v: INBOX and Sent, well formed, are lost with the one odd line", len(boxes), names, err)
	}
	zqAlive(t, c, ctx)
}

// Helpers: a scripted server for these tests.

// zqVerbs are the command names zqClient's scripts are keyed by, longest
// first.
var zqVerbs = []string{"UID FETCH", "UID STORE", "UID SEARCH", "UID COPY", "UID MOVE", "UID EXPUNGE", "SELECT", "EXAMINE", "FETCH", "STORE", "SEARCH", "NOOP", "LIST", "STATUS", "LOGIN", "CAPABILITY", "IDLE", "ENABLE", "NAMESPACE", "CHECK", "EXPUNGE", "COPY", "MOVE", "LSUB", "ID", "GETQUOTAROOT", "SORT", "THREAD", "LOGOUT", "APPEND", "CREATE", "AUTHENTICATE"}

// zqServer is a scripted server: greeting is its first line (without
// CRLF); script maps a command verb (zqVerbs) to the lines it answers
// with, @T@ replaced by the command's tag; the tagged OK is added when no
// line holds "@T@ " (the tag placeholder). "<CLOSE>" at the end of an answer closes the
// connection after writing it. Each command's raw line goes to seen.
func zqServer(t *testing.T, greeting string, script map[string]string, seen chan<- string) net.Conn {
	t.Helper()
	client, server := transport.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		r := bufio.NewReader(server)
		if _, err := io.WriteString(server, greeting+"\r\n"); err != nil {
			return
		}
		idleTag := ""
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if m := r38LitRE.FindStringSubmatch(line); m != nil {
				n, _ := strconv.Atoi(m[1])
				if m[2] == "" {
					io.WriteString(server, "+ go\r\n")
				}
				body := make([]byte, n)
				if _, err := io.ReadFull(r, body); err != nil {
					return
				}
				rest, _ := r.ReadString('\n')
				line += string(body) + rest
			}
			if seen != nil {
				select {
				case seen <- line:
				default:
				}
			}
			tag, rest, _ := strings.Cut(line, " ")
			if strings.TrimSpace(line) == "DONE" {
				out := script["DONE"]
				if !strings.Contains(out, "@T@ ") {
					out += "@T@ OK idle done\r\n"
				}
				if _, err := io.WriteString(server, strings.ReplaceAll(out, "@T@", idleTag)); err != nil {
					return
				}
				continue
			}
			out := ""
			found := false
			up := strings.ToUpper(strings.TrimRight(rest, "\r\n"))
			for _, verb := range zqVerbs {
				if strings.HasPrefix(up, verb+" ") || up == verb {
					out, found = script[verb]
					break
				}
			}
			if !found {
				out = ""
			}
			if strings.HasPrefix(up, "IDLE") {
				idleTag = tag
			}
			out = strings.ReplaceAll(out, "@T@", tag)
			closeAfter := strings.HasSuffix(out, "<CLOSE>")
			out = strings.TrimSuffix(out, "<CLOSE>")
			if !strings.Contains(out, tag+" ") && !strings.HasPrefix(up, "IDLE") {
				out += tag + " OK done\r\n"
			}
			if _, err := io.WriteString(server, out); err != nil {
				return
			}
			if closeAfter {
				return
			}
		}
	}()
	t.Cleanup(func() {
		client.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("fake server did not stop")
		}
	})
	return client
}

// zqOpen opens a Client on a zqServer.
func zqOpen(t *testing.T, greeting string, script map[string]string, seen chan<- string) (*commands.Client, context.Context) {
	t.Helper()
	conn := zqServer(t, greeting, script, seen)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	c, err := commands.Open(ctx, conn, &auth.Options{Session: &session.Options{TagPrefix: "A"}})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { c.Session().Close() })
	return c, ctx
}

// zqClient is zqOpen with a PREAUTH greeting advertising caps, and INBOX
// selected (script["SELECT"] answers it; 3 messages by default).
func zqClient(t *testing.T, caps string, script map[string]string) (*commands.Client, context.Context) {
	t.Helper()
	if _, ok := script["SELECT"]; !ok {
		script["SELECT"] = "* 3 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n"
	}
	c, ctx := zqOpen(t, "* PREAUTH [CAPABILITY "+caps+"] fake", script, nil)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatalf("select: %v", err)
	}
	return c, ctx
}

// zqAlive checks the session still runs commands.
func zqAlive(t *testing.T, c *commands.Client, ctx context.Context) {
	t.Helper()
	if err := c.Noop(ctx); err != nil {
		t.Fatalf("the session did not survive: NOOP: %v", err)
	}
}
