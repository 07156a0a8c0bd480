package commands_test

// A review of the append family (stop 37): each test failed before its
// fix.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/transport"
)

// r37eCmd is one command the fake server read: its text (literal bodies
// replaced by <L0>, <L1>, ...) and its literal bodies, byte for byte.
type r37eCmd struct {
	Tag, Text string
	Lits      [][]byte
	Sync      []bool
}

// r37eServer is a fake IMAP server on a pipe: it reads whole commands,
// literals included (sending "+" for synchronizing ones, or answering
// with refuse's line instead), records them, and answers with answer.
type r37eServer struct {
	mu     sync.Mutex
	cmds   []r37eCmd
	answer func(c r37eCmd) string
	// refuse, when set, is asked before a synchronizing literal's "+": a
	// non-empty answer is sent instead and the command is over.
	refuse func(c r37eCmd, n int64) string
	raw    bytes.Buffer // everything the client sent
	done   chan struct{}
}

var r37eLitRe = regexp.MustCompile(`(~?)\{(\d+)(\+?)\}\r\n$`)

func r37eStart(t *testing.T, caps string, answer func(c r37eCmd) string) (*commands.Client, *r37eServer, context.Context) {
	t.Helper()
	client, server := transport.Pipe()
	s := &r37eServer{answer: answer, done: make(chan struct{})}
	go s.serve(server, caps)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	c, err := commands.Open(ctx, client, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Session().Close(); server.Close() })
	return c, s, ctx
}

func (s *r37eServer) serve(conn io.ReadWriteCloser, caps string) {
	defer close(s.done)
	defer conn.Close()
	r := bufio.NewReader(io.TeeReader(conn, &lockedBuf{s: s}))
	fmt.Fprintf(conn, "* PREAUTH [CAPABILITY IMAP4rev1 %s] ready\r\n", caps)
	for {
		var c r37eCmd
		refused := false
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if c.Tag == "" {
				c.Tag, _, _ = strings.Cut(line, " ")
			}
			m := r37eLitRe.FindStringSubmatch(line)
			if m == nil {
				c.Text += strings.TrimSuffix(line, "\r\n")
				break
			}
			n, _ := strconv.ParseInt(m[2], 10, 64)
			sync := m[3] == ""
			c.Text += line[:len(line)-len(m[0])] + fmt.Sprintf("<L%d:%s{%d%s}>", len(c.Lits), m[1], n, m[3])
			if sync {
				if s.refuse != nil {
					if a := s.refuse(c, n); a != "" {
						io.WriteString(conn, a)
						refused = true
						break
					}
				}
				io.WriteString(conn, "+ go\r\n")
			}
			b := make([]byte, n)
			if _, err := io.ReadFull(r, b); err != nil {
				c.Lits = append(c.Lits, b)
				s.mu.Lock()
				s.cmds = append(s.cmds, c)
				s.mu.Unlock()
				return
			}
			c.Lits = append(c.Lits, b)
			c.Sync = append(c.Sync, sync)
		}
		s.mu.Lock()
		s.cmds = append(s.cmds, c)
		s.mu.Unlock()
		if refused {
			continue
		}
		if strings.HasPrefix(strings.ToUpper(c.Text), c.Tag+" LOGOUT") {
			io.WriteString(conn, "* BYE bye\r\n"+c.Tag+" OK bye\r\n")
			return
		}
		a := ""
		if s.answer != nil {
			a = s.answer(c)
		}
		if a == "" {
			a = c.Tag + " OK done\r\n"
		}
		io.WriteString(conn, a)
	}
}

type lockedBuf struct{ s *r37eServer }

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	return l.s.raw.Write(p)
}

func (s *r37eServer) commands() []r37eCmd {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]r37eCmd(nil), s.cmds...)
}

// r37eAppendUID answers APPEND with APPENDUID 7 and consecutive UIDs.
func r37eAppendUID() func(c r37eCmd) string {
	next := 100
	return func(c r37eCmd) string {
		if strings.Contains(c.Text, " APPEND ") {
			n := len(c.Lits)
			first := next
			next += n
			set := strconv.Itoa(first)
			if n > 1 {
				set += ":" + strconv.Itoa(first+n-1)
			}
			return fmt.Sprintf("%s OK [APPENDUID 7 %s] appended\r\n", c.Tag, set)
		}
		return ""
	}
}

// changingSeeker is a file rewritten between NormalizeCRLF's two reads:
// every Seek to the start after the first read serves the next version.
// changingSeeker is a message that changes once it has been read: a
// seek back to the start after a read gives its next version (a seek
// without a read between, as Append's measure of its length, does not).
type changingSeeker struct {
	versions [][]byte
	v        int
	r        *bytes.Reader
	seeks    int
	read     bool
}

func (c *changingSeeker) Read(p []byte) (int, error) {
	if c.r == nil {
		c.r = bytes.NewReader(c.versions[0])
	}
	c.read = true
	return c.r.Read(p)
}

func (c *changingSeeker) Seek(off int64, whence int) (int64, error) {
	if c.r == nil {
		c.r = bytes.NewReader(c.versions[0])
	}
	if whence == io.SeekStart && c.read {
		c.seeks++
		c.read = false
		if c.v+1 < len(c.versions) {
			c.v++
			c.r = bytes.NewReader(c.versions[c.v])
		}
	}
	return c.r.Seek(off, whence)
}

// TestReview37eReplaceUntaggedAppendUID: RFC 8508 section 3.4 and its examples
// send REPLACE's APPENDUID in an untagged OK, before the EXPUNGE, as MOVE
// sends COPYUID; the tagged OK carries none. Replace must report it.
func TestReview37eReplaceUntaggedAppendUID(t *testing.T) {
	c, _, ctx := r37eStart(t, "LITERAL+ UIDPLUS REPLACE", func(cmd r37eCmd) string {
		switch {
		case strings.Contains(cmd.Text, " SELECT "):
			return "* 4 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n" + cmd.Tag + " OK [READ-WRITE] done\r\n"
		case strings.Contains(cmd.Text, " REPLACE "):
			return "* OK [APPENDUID 1 2001] Replacement Message ready\r\n* 5 EXISTS\r\n* 4 EXPUNGE\r\n" +
				cmd.Tag + " OK Replace completed\r\n"
		}
		return ""
	})
	if _, err := c.Select(ctx, "Drafts", nil); err != nil {
		t.Fatal(err)
	}
	msg := []byte("Subject: v2\r\n\r\nhi\r\n")
	res, err := c.Replace(ctx, commands.SeqNums(4), "Drafts", bytes.NewReader(msg), int64(len(msg)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.UIDValidity != 1 || res.UID != 2001 {
		t.Fatalf("Replace reported APPENDUID %d %d; the server sent [APPENDUID 1 2001] (untagged, as RFC 8508 does)", res.UIDValidity, res.UID)
	}
}

// TestReview37eReplaceFallbackNotSelected: Replace by UID with no mailbox
// selected, on a server without REPLACE: a REPLACE would be refused with
// nothing appended; the fallback appends first and only then finds that
// it cannot flag the old message.
func TestReview37eReplaceFallbackNotSelected(t *testing.T) {
	c, s, ctx := r37eStart(t, "LITERAL+ UIDPLUS", r37eAppendUID())
	msg := []byte("Subject: v2\r\n\r\nhi\r\n")
	_, err := c.Replace(ctx, commands.UIDs(5), "Drafts", bytes.NewReader(msg), int64(len(msg)), nil)
	t.Logf("Replace: %v", err)
	for _, cmd := range s.commands() {
		if strings.Contains(cmd.Text, " APPEND ") {
			t.Errorf("Replace with no mailbox selected appended the new message (%q) before failing: %v", cmd.Text, err)
		}
	}
}

// TestReview37eNormalizeCRLFChangedCut: the message grows on NormalizeCRLF's
// second read (its first 1024 bytes become bare LFs, which alone convert
// to as many bytes as the whole first version did). AppendOptions says
// such a message "aborts the session rather than being cut"; it is sent
// cut: its last 1024 bytes are dropped and the APPEND succeeds.
func TestReview37eNormalizeCRLFChangedCut(t *testing.T) {
	c, s, ctx := r37eStart(t, "LITERAL+ UIDPLUS", r37eAppendUID())
	v1 := bytes.Repeat([]byte("a"), 2048)
	v2 := append(bytes.Repeat([]byte("\n"), 1024), bytes.Repeat([]byte("b"), 1024)...)
	rs := &changingSeeker{versions: [][]byte{v1, v2}}
	_, err := c.Append(ctx, "INBOX", rs, int64(len(v1)), &commands.AppendOptions{NormalizeCRLF: true})
	if err == nil {
		cmds := s.commands()
		sent := cmds[len(cmds)-1].Lits[0]
		t.Fatalf("APPEND succeeded: sent %d bytes (%d of them 'b'), whereas the message read then converts to %d bytes: the message was cut",
			len(sent), bytes.Count(sent, []byte("b")), len(commands.NormalizeCRLF(v2)))
	}
	if c.Session().Err() == nil {
		t.Fatalf("error %v but the session is up", err)
	}
}

// TestReview37eReplaceFallbackReadOnlyDovecot: the same with the mailbox
// selected read-only (EXAMINE): the new draft is stored, the old one
// cannot be removed, and both stay.
func TestReview37eReplaceFallbackReadOnlyDovecot(t *testing.T) {
	c := dvClient(t, "alice", nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, "alice", 2)
	if _, err := c.Examine(ctx, mb); err != nil {
		t.Fatal(err)
	}
	msg := []byte("Subject: v2\r\n\r\nhi\r\n")
	_, err := c.Replace(ctx, commands.UIDs(2), mb, bytes.NewReader(msg), int64(len(msg)), nil)
	st, serr := dvClient(t, "alice", nil).Status(ctx, mb, commands.StatusMessages)
	if serr != nil {
		t.Fatal(serr)
	}
	if st.Messages != 2 {
		t.Errorf("Replace on a read-only selection: %v; the mailbox now holds %d messages (the draft was appended before the STORE was refused)", err, st.Messages)
	}
}
