package commands_test

// Reproducers of the "loses nothing" audit: a message's bytes arrive
// exactly, or the caller gets an error.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// r38Cmd is one command the fake server read: its tag and its raw bytes,
// literal headers and bodies included, as they came.
type r38Cmd struct {
	Tag string
	Raw []byte
}

// r38Fake is a scripted server: it greets with PREAUTH and caps, reads
// each command whole (answering "+ go" to each synchronizing literal
// header), records it, and writes what answer returns for it.
type r38Fake struct {
	mu   sync.Mutex
	cmds []r38Cmd
}

func (f *r38Fake) commands() []r38Cmd {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]r38Cmd(nil), f.cmds...)
}

var r38LitRE = regexp.MustCompile(`~?\{(\d+)(\+?)\}\r\n$`)

func r38FakeClient(t *testing.T, caps string, answer func(c r38Cmd) string) (*commands.Client, context.Context, *r38Fake) {
	t.Helper()
	return r38FakeClientHook(t, caps, nil, answer)
}

// r38FakeClientHook is r38FakeClient with beforeCont, when not nil, run
// when a synchronizing literal's header has arrived, before the "+" that
// lets its bytes go.
func r38FakeClientHook(t *testing.T, caps string, beforeCont func(), answer func(c r38Cmd) string) (*commands.Client, context.Context, *r38Fake) {
	t.Helper()
	f := &r38Fake{}
	client, server := transport.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		r := bufio.NewReader(server)
		if _, err := io.WriteString(server, "* PREAUTH [CAPABILITY "+caps+"] fake\r\n"); err != nil {
			return
		}
		for {
			var raw []byte
			for {
				line, err := r.ReadBytes('\n')
				raw = append(raw, line...)
				if err != nil {
					return
				}
				m := r38LitRE.FindSubmatch(line)
				if m == nil {
					break
				}
				n, _ := strconv.Atoi(string(m[1]))
				if len(m[2]) == 0 {
					if beforeCont != nil {
						beforeCont()
					}
					if _, err := io.WriteString(server, "+ go\r\n"); err != nil {
						return
					}
				}
				body := make([]byte, n)
				if _, err := io.ReadFull(r, body); err != nil {
					return
				}
				raw = append(raw, body...)
			}
			tag, _, _ := bytes.Cut(raw, []byte(" "))
			c := r38Cmd{Tag: string(tag), Raw: raw}
			f.mu.Lock()
			f.cmds = append(f.cmds, c)
			f.mu.Unlock()
			out := ""
			if answer != nil {
				out = answer(c)
			}
			if out == "" {
				out = c.Tag + " OK done\r\n"
			}
			if _, err := io.WriteString(server, out); err != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	c, err := commands.Open(ctx, client, &auth.Options{Session: &session.Options{TagPrefix: "A"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Session().Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("fake server did not stop")
		}
	})
	return c, ctx, f
}

// r38Appends returns the APPEND commands the fake server read.
func r38Appends(f *r38Fake) []r38Cmd {
	var out []r38Cmd
	for _, c := range f.commands() {
		if bytes.Contains(c.Raw[:min(len(c.Raw), 40)], []byte(" APPEND ")) {
			out = append(out, c)
		}
	}
	return out
}

// r38Body fetches BODY.PEEK[] (or BINARY.PEEK[] when binary) of uid in
// the selected mailbox.
func r38Body(t *testing.T, c *commands.Client, uid uint32, binary bool) []byte {
	t.Helper()
	var out []byte
	n := 0
	for m, err := range c.Fetch(dvCtx(t), commands.UIDs(uid), &commands.FetchItems{UID: true, Sections: []commands.FetchSection{{Binary: binary}}}) {
		if err != nil {
			t.Fatalf("FETCH %d: %v", uid, err)
		}
		s, err := m.NextSection()
		if err != nil {
			t.Fatalf("FETCH %d: %v", uid, err)
		}
		if out, err = io.ReadAll(s); err != nil {
			t.Fatalf("FETCH %d: %v", uid, err)
		}
		n++
	}
	if n != 1 {
		t.Fatalf("FETCH %d: %d messages", uid, n)
	}
	return out
}

// r38Messages returns the UIDs and BODY.PEEK[] of every message of the
// selected mailbox.
func r38Messages(t *testing.T, c *commands.Client, mailbox string) map[uint32][]byte {
	t.Helper()
	ctx := dvCtx(t)
	st, err := c.Select(ctx, mailbox, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint32][]byte{}
	if st.Exists == 0 {
		return out
	}
	for m, err := range c.Fetch(ctx, commands.SeqRange(1, 0), &commands.FetchItems{UID: true, Sections: []commands.FetchSection{commands.WholeMessage}}) {
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.NextSection()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(s)
		if err != nil {
			t.Fatal(err)
		}
		out[m.UID] = b
	}
	return out
}

// r38NoCutMessage fails when the mailbox holds a message that is a strict
// prefix of full (the message cut at the size given).
func r38NoCutMessage(t *testing.T, c *commands.Client, mailbox string, full []byte, err error) {
	t.Helper()
	for uid, b := range r38Messages(t, c, mailbox) {
		if len(b) < len(full) && bytes.HasPrefix(full, b) {
			t.Errorf("UID %d was stored cut: %d of the reader's %d bytes (%q); the call returned %v", uid, len(b), len(full), b[max(0, len(b)-12):], err)
		}
	}
	if !errors.Is(err, commands.ErrSizeMismatch) {
		t.Errorf("the reader held %d bytes more than the size given, and the call returned %v; want ErrSizeMismatch", r38Extra, err)
	}
}

const r38Extra = 7

// r38OverlongMsg is a message whose last r38Extra bytes lie beyond the
// size the tests give.
var r38OverlongMsg = []byte("From: a@example.org\r\nSubject: overlong reader\r\n\r\nfirst line\r\nsecond line, cut here -> TAILTAIL\r\n")

// TestReview38BytesAppendOverlongReaderDovecot: Append given a reader that
// holds more bytes than size sends size bytes and reports success: the
// message is stored cut, the caller is not told. For readers whose length
// is known without reading (*strings.Reader, *bytes.Reader: Len; *os.File:
// Stat minus the offset; any io.Seeker: Seek to the end and back) the
// library can find out before the literal header goes out and refuse.
func TestReview38BytesAppendOverlongReaderDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	full := r38OverlongMsg
	size := int64(len(full) - r38Extra)
	file := filepath.Join(t.TempDir(), "msg.eml")
	if err := os.WriteFile(file, full, 0o600); err != nil {
		t.Fatal(err)
	}
	readers := []struct {
		name string
		r    func(t *testing.T) io.Reader
		opts *commands.AppendOptions
	}{
		{"strings.Reader", func(*testing.T) io.Reader { return strings.NewReader(string(full)) }, nil},
		{"bytes.Reader", func(*testing.T) io.Reader { return bytes.NewReader(full) }, nil},
		{"os.File", func(t *testing.T) io.Reader {
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return f
		}, nil},
		{"io.SectionReader", func(*testing.T) io.Reader { return io.NewSectionReader(bytes.NewReader(full), 0, int64(len(full))) }, nil},
		{"strings.Reader+NormalizeCRLF", func(*testing.T) io.Reader { return strings.NewReader(string(full)) }, &commands.AppendOptions{NormalizeCRLF: true}},
	}
	for _, rd := range readers {
		t.Run(rd.name, func(t *testing.T) {
			mb := dvMailbox(t, testserver.Alice, 0)
			_, err := c.Append(ctx, mb, rd.r(t), size, rd.opts)
			r38NoCutMessage(t, c, mb, full, err)
		})
	}
}

// TestReview38BytesAppendManyOverlongReaderDovecot: the same through
// AppendMany, with R and Size and with Open returning a size smaller than
// its reader holds.
func TestReview38BytesAppendManyOverlongReaderDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	full := r38OverlongMsg
	size := int64(len(full) - r38Extra)
	ok := []byte("Subject: whole\r\n\r\nwhole\r\n")
	t.Run("R", func(t *testing.T) {
		mb := dvMailbox(t, testserver.Alice, 0)
		_, err := c.AppendMany(ctx, mb, []commands.AppendMessage{
			{R: bytes.NewReader(ok), Size: int64(len(ok))},
			{R: strings.NewReader(string(full)), Size: size},
		})
		r38NoCutMessage(t, c, mb, full, err)
	})
	t.Run("Open", func(t *testing.T) {
		// Opened when its turn comes, in the middle of the command: the
		// session is aborted, and the MULTIAPPEND adds nothing.
		c := dvClient(t, testserver.Alice, nil)
		mb := dvMailbox(t, testserver.Alice, 0)
		_, err := c.AppendMany(ctx, mb, []commands.AppendMessage{
			{R: bytes.NewReader(ok), Size: int64(len(ok))},
			{Open: func() (io.Reader, int64, error) { return bytes.NewReader(full), size, nil }},
		})
		if !errors.Is(err, commands.ErrSizeMismatch) {
			t.Errorf("AppendMany: %v; want ErrSizeMismatch", err)
		}
		if n := len(r38Messages(t, dvClient(t, testserver.Alice, nil), mb)); n != 0 {
			t.Errorf("%d messages stored; want none", n)
		}
	})
}

// TestReview38BytesReplaceOverlongReaderDovecot: the same through Replace
// (Dovecot has no REPLACE: APPEND, then UID EXPUNGE of the old one).
func TestReview38BytesReplaceOverlongReaderDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	full := r38OverlongMsg
	mb := dvMailbox(t, testserver.Alice, 1)
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	_, err := c.Replace(ctx, commands.UIDs(1), mb, strings.NewReader(string(full)), int64(len(full)-r38Extra), nil)
	r38NoCutMessage(t, c, mb, full, err)
}

// TestReview38BytesAppendCatenateOverlongReaderDovecot: the same through a
// CATENATE TEXT part.
func TestReview38BytesAppendCatenateOverlongReaderDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	full := r38OverlongMsg
	mb := dvMailbox(t, testserver.Alice, 0)
	_, err := c.AppendCatenate(ctx, mb, []commands.CatenatePart{{R: strings.NewReader(string(full)), Size: int64(len(full) - r38Extra)}}, nil)
	r38NoCutMessage(t, c, mb, full, err)
}

// r38NULMsg holds a NUL byte in its body.
var r38NULMsg = []byte("From: a@example.org\r\nSubject: nul\r\n\r\nbefore\x00after\r\n")

// r38NoNULInLiteral fails when an APPEND or REPLACE carried a NUL inside a
// literal that is not a literal8 (RFC 3501 and RFC 9051 forbid NUL in a
// literal; RFC 3516 gives literal8 for it).
func r38NoNULInLiteral(t *testing.T, f *r38Fake) int {
	t.Helper()
	sent := 0
	for _, cmd := range f.commands() {
		raw := cmd.Raw
		for {
			loc := r38LitHdr.FindSubmatchIndex(raw)
			if loc == nil {
				break
			}
			n, _ := strconv.Atoi(string(raw[loc[4]:loc[5]]))
			body := raw[loc[1]:min(len(raw), loc[1]+n)]
			if raw[loc[0]] != '~' && bytes.IndexByte(body, 0) >= 0 {
				t.Errorf("%s sent a NUL inside a plain literal %q: %q", cmd.Tag, raw[loc[0]:loc[1]], body)
			}
			if bytes.IndexByte(body, 0) >= 0 {
				sent++
			}
			raw = raw[loc[1]+len(body):]
		}
	}
	return sent
}

var r38LitHdr = regexp.MustCompile(`(~?)\{(\d+)\+?\}\r\n`)

// TestReview38BytesAppendNULWithoutBinaryFake: a message holding NUL appended
// without AppendOptions.Binary goes out in a plain literal ({n+}), which
// RFC 3501/9051 forbid; nothing tells the caller. Dovecot takes it and
// serves the NUL as 0x80 in BODY[] (see TestReview38BytesAppendNULDovecot);
// Cyrus answers NO. Expected: with BINARY offered, send it as literal8
// (~{n}); without BINARY, refuse before sending (an error wrapping
// wire.ErrNUL or a typed commands error), as the Encoder does for
// strings. The same for AppendMany and Replace (REPLACE).
func TestReview38BytesAppendNULWithoutBinaryFake(t *testing.T) {
	answer := func(c r38Cmd) string {
		if bytes.Contains(c.Raw, []byte(" SELECT ")) {
			return "* 1 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n" + c.Tag + " OK [READ-WRITE] ok\r\n"
		}
		return c.Tag + " OK [APPENDUID 7 9] done\r\n"
	}
	calls := []struct {
		name string
		do   func(ctx context.Context, c *commands.Client) error
	}{
		{"AppendBytes", func(ctx context.Context, c *commands.Client) error {
			_, err := c.AppendBytes(ctx, "INBOX", r38NULMsg, nil)
			return err
		}},
		{"Append", func(ctx context.Context, c *commands.Client) error {
			_, err := c.Append(ctx, "INBOX", bytes.NewReader(r38NULMsg), int64(len(r38NULMsg)), nil)
			return err
		}},
		{"AppendMany", func(ctx context.Context, c *commands.Client) error {
			_, err := c.AppendMany(ctx, "INBOX", []commands.AppendMessage{{R: bytes.NewReader(r38NULMsg), Size: int64(len(r38NULMsg))}})
			return err
		}},
		{"Replace", func(ctx context.Context, c *commands.Client) error {
			if _, err := c.Select(ctx, "INBOX", nil); err != nil {
				return err
			}
			_, err := c.Replace(ctx, commands.UIDs(1), "INBOX", bytes.NewReader(r38NULMsg), int64(len(r38NULMsg)), nil)
			return err
		}},
	}
	for _, caps := range []string{"IMAP4rev1 LITERAL+ MULTIAPPEND REPLACE UIDPLUS BINARY", "IMAP4rev1 LITERAL+ MULTIAPPEND REPLACE UIDPLUS"} {
		for _, call := range calls {
			name := call.name + "/BINARY"
			if !strings.HasSuffix(caps, "BINARY") {
				name = call.name + "/noBINARY"
			}
			t.Run(name, func(t *testing.T) {
				c, ctx, f := r38FakeClient(t, caps, answer)
				err := call.do(ctx, c)
				sent := r38NoNULInLiteral(t, f)
				if !strings.HasSuffix(caps, "BINARY") && err == nil {
					t.Errorf("a message with NUL was appended to a server without BINARY and no error came back (%d literals with NUL sent)", sent)
				}
			})
		}
	}
}

// TestReview38BytesAppendOverAppendLimitFake: a server advertising
// APPENDLIMIT=100 (RFC 7889) and LITERAL+: a 200-byte message is streamed
// whole as {200+} and only then refused; with LITERAL+ the server may
// even close the connection. RFC 7889 asks clients not to send what is
// over the limit; the library knows the size before the literal header:
// expected, an error before any APPEND is sent (a typed one, so that
// import/copy can tell "too big" from a failure of the session).
func TestReview38BytesAppendOverAppendLimitFake(t *testing.T) {
	c, ctx, f := r38FakeClient(t, "IMAP4rev1 LITERAL+ MULTIAPPEND APPENDLIMIT=100", func(c r38Cmd) string {
		return c.Tag + " NO [TOOBIG] too big\r\n"
	})
	msg := bytes.Repeat([]byte("a"), 200)
	_, err := c.AppendBytes(ctx, "INBOX", msg, nil)
	if n := len(r38Appends(f)); n != 0 {
		t.Errorf("a 200-byte APPEND went out to a server with APPENDLIMIT=100 (%d sent); error %v", n, err)
	}
	if err == nil {
		t.Fatal("no error")
	}
	if errors.Is(err, session.ErrNo) {
		t.Errorf("the caller learnt of the limit only from the server's NO: %v", err)
	}
}

// TestReview38BytesAppendShortReaderNotSent: a reader whose length is
// known and short of the size given is refused before anything is sent
// (it aborted the session in the middle of the literal); the session goes
// on.
func TestReview38BytesAppendShortReaderNotSent(t *testing.T) {
	c, ctx, f := r38FakeClient(t, "IMAP4rev1 LITERAL+", func(c r38Cmd) string { return "" })
	_, err := c.Append(ctx, "INBOX", strings.NewReader("short"), 10, nil)
	if !errors.Is(err, commands.ErrSizeMismatch) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Append: %v; want ErrSizeMismatch and io.ErrUnexpectedEOF", err)
	}
	if n := len(r38Appends(f)); n != 0 {
		t.Fatalf("%d APPEND sent", n)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatalf("NOOP after: %v", err)
	}
}

// TestReview38BytesAppendNULDovecot: a message holding a NUL, appended
// without AppendOptions.Binary to Dovecot (which has BINARY). Given in
// memory, it is sent as literal8 and stored exactly (BINARY.PEEK[] gives
// the NUL back; sent in a plain literal, Dovecot stored 0x80). From any
// other reader, the NUL is found as it is sent: the session is aborted
// with an error wrapping wire.ErrNUL, and nothing is stored.
func TestReview38BytesAppendNULDovecot(t *testing.T) {
	ctx := dvCtx(t)
	t.Run("memory", func(t *testing.T) {
		c := dvClient(t, testserver.Alice, nil)
		mb := dvMailbox(t, testserver.Alice, 0)
		if _, err := c.AppendBytes(ctx, mb, r38NULMsg, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Select(ctx, mb, nil); err != nil {
			t.Fatal(err)
		}
		if got := r38Body(t, c, 1, true); !bytes.Equal(got, r38NULMsg) {
			t.Fatalf("stored %q; want %q", got, r38NULMsg)
		}
	})
	t.Run("stream", func(t *testing.T) {
		c := dvClient(t, testserver.Alice, nil)
		mb := dvMailbox(t, testserver.Alice, 0)
		_, err := c.Append(ctx, mb, io.MultiReader(bytes.NewReader(r38NULMsg)), int64(len(r38NULMsg)), nil)
		if !errors.Is(err, wire.ErrNUL) {
			t.Fatalf("Append: %v; want an error wrapping wire.ErrNUL", err)
		}
		if n := len(r38Messages(t, dvClient(t, testserver.Alice, nil), mb)); n != 0 {
			t.Fatalf("%d messages stored; want none", n)
		}
	})
}

// TestReview38BytesBorrowKeptSectionDovecot: under Borrow, a body section that
// came whole with its FETCH response is read in place; Section.Read on
// it after the iteration has ended must fail with ErrSectionGone (its
// documentation: "once a section read in place is no longer current ...
// the iteration moved on, or it ended"). Instead it reads the decoder's
// recycled buffer: after another FETCH, 8667 bytes that are not the
// message's, with a nil error.
func TestReview38BytesBorrowKeptSectionDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.Alice, 6)
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	want := r38Body(t, c, 1, false)
	var kept *commands.Section
	for m, err := range c.Fetch(ctx, commands.UIDs(1), &commands.FetchItems{UID: true, Borrow: true, Sections: []commands.FetchSection{commands.WholeMessage}}) {
		if err != nil {
			t.Fatal(err)
		}
		if kept, err = m.NextSection(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.FetchAll(ctx, commands.UIDRange(2, 6), &commands.FetchItems{UID: true, Sections: []commands.FetchSection{commands.WholeMessage}}); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(kept)
	if err == nil && !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Errorf("the Section of UID 1 kept past the iteration read %d bytes, differing from UID 1's %d from byte %d (%q), with no error; want ErrSectionGone", len(got), len(want), i, got[i:min(len(got), i+30)])
	}
	if err != nil && !errors.Is(err, commands.ErrSectionGone) {
		t.Errorf("error %v; want ErrSectionGone", err)
	}
}
