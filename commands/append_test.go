package commands_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/faultrelay"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/internal/leakcheck"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// dvBody fetches BODY.PEEK[] (or BINARY.PEEK[] when binary) of uid in
// the selected mailbox.
func dvBody(t *testing.T, c *commands.Client, uid uint32, binary bool) []byte {
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

// dvMessages returns the UIDs and BODY.PEEK[] of every message of the
// selected mailbox.
func dvMessages(t *testing.T, c *commands.Client, mailbox string) map[uint32][]byte {
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

// noCutMessage fails when the mailbox holds a message that is a strict
// prefix of full (the message cut at the size given).
func noCutMessage(t *testing.T, c *commands.Client, mailbox string, full []byte, err error) {
	t.Helper()
	for uid, b := range dvMessages(t, c, mailbox) {
		if len(b) < len(full) && bytes.HasPrefix(full, b) {
			t.Errorf("UID %d was stored cut: %d of the reader's %d bytes (%q); the call returned %v", uid, len(b), len(full), b[max(0, len(b)-12):], err)
		}
	}
	if !errors.Is(err, commands.ErrSizeMismatch) {
		t.Errorf("the reader held %d bytes more than the size given, and the call returned %v; want ErrSizeMismatch", overlongExtra, err)
	}
}

const overlongExtra = 7

// overlongMsg is a message whose last overlongExtra bytes lie beyond the
// size the tests give.
var overlongMsg = []byte("From: a@example.org\r\nSubject: overlong reader\r\n\r\nfirst line\r\nsecond line, cut here -> TAILTAIL\r\n")

// TestAppendOverlongReaderDovecot: Append given a reader that
// holds more bytes than size sends size bytes and reports success: the
// message is stored cut, the caller is not told. For readers whose length
// is known without reading (*strings.Reader, *bytes.Reader: Len; *os.File:
// Stat minus the offset; any io.Seeker: Seek to the end and back) the
// library can find out before the literal header goes out and refuse.
func TestAppendOverlongReaderDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	full := overlongMsg
	size := int64(len(full) - overlongExtra)
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
			noCutMessage(t, c, mb, full, err)
		})
	}
}

// TestAppendManyOverlongReaderDovecot: the same through
// AppendMany, with R and Size and with Open returning a size smaller than
// its reader holds.
func TestAppendManyOverlongReaderDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	full := overlongMsg
	size := int64(len(full) - overlongExtra)
	ok := []byte("Subject: whole\r\n\r\nwhole\r\n")
	t.Run("R", func(t *testing.T) {
		mb := dvMailbox(t, testserver.Alice, 0)
		_, err := c.AppendMany(ctx, mb, []commands.AppendMessage{
			{R: bytes.NewReader(ok), Size: int64(len(ok))},
			{R: strings.NewReader(string(full)), Size: size},
		})
		noCutMessage(t, c, mb, full, err)
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
		if n := len(dvMessages(t, dvClient(t, testserver.Alice, nil), mb)); n != 0 {
			t.Errorf("%d messages stored; want none", n)
		}
	})
}

// TestAppendCatenateOverlongReaderDovecot: the same through a
// CATENATE TEXT part.
func TestAppendCatenateOverlongReaderDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	full := overlongMsg
	mb := dvMailbox(t, testserver.Alice, 0)
	_, err := c.AppendCatenate(ctx, mb, []commands.CatenatePart{{R: strings.NewReader(string(full)), Size: int64(len(full) - overlongExtra)}}, nil)
	noCutMessage(t, c, mb, full, err)
}

// nulMsg holds a NUL byte in its body.
var nulMsg = []byte("From: a@example.org\r\nSubject: nul\r\n\r\nbefore\x00after\r\n")

// noNULInLiteral fails when an APPEND or REPLACE carried a NUL inside a
// literal that is not a literal8 (RFC 3501 and RFC 9051 forbid NUL in a
// literal; RFC 3516 gives literal8 for it).
func noNULInLiteral(t *testing.T, f *rawServer) int {
	t.Helper()
	sent := 0
	for _, cmd := range f.commands() {
		raw := cmd.Raw
		for {
			loc := literalHeaderRE.FindSubmatchIndex(raw)
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

var literalHeaderRE = regexp.MustCompile(`(~?)\{(\d+)\+?\}\r\n`)

// TestAppendNULWithoutBinaryFake: a message holding NUL appended
// without AppendOptions.Binary goes out in a plain literal ({n+}), which
// RFC 3501/9051 forbid; nothing tells the caller. Dovecot takes it and
// serves the NUL as 0x80 in BODY[] (see TestAppendNULDovecot);
// Cyrus answers NO. Expected: with BINARY offered, send it as literal8
// (~{n}); without BINARY, refuse before sending (an error wrapping
// wire.ErrNUL or a typed commands error), as the Encoder does for
// strings. The same for AppendMany and Replace (REPLACE).
func TestAppendNULWithoutBinaryFake(t *testing.T) {
	answer := func(c rawCmd) string {
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
			_, err := c.AppendBytes(ctx, "INBOX", nulMsg, nil)
			return err
		}},
		{"Append", func(ctx context.Context, c *commands.Client) error {
			_, err := c.Append(ctx, "INBOX", bytes.NewReader(nulMsg), int64(len(nulMsg)), nil)
			return err
		}},
		{"AppendMany", func(ctx context.Context, c *commands.Client) error {
			_, err := c.AppendMany(ctx, "INBOX", []commands.AppendMessage{{R: bytes.NewReader(nulMsg), Size: int64(len(nulMsg))}})
			return err
		}},
		{"Replace", func(ctx context.Context, c *commands.Client) error {
			if _, err := c.Select(ctx, "INBOX", nil); err != nil {
				return err
			}
			_, err := c.Replace(ctx, commands.UIDs(1), "INBOX", bytes.NewReader(nulMsg), int64(len(nulMsg)), nil)
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
				c, ctx, f := rawClient(t, caps, answer)
				err := call.do(ctx, c)
				sent := noNULInLiteral(t, f)
				if !strings.HasSuffix(caps, "BINARY") && err == nil {
					t.Errorf("a message with NUL was appended to a server without BINARY and no error came back (%d literals with NUL sent)", sent)
				}
			})
		}
	}
}

// TestAppendOverAppendLimitFake: a server advertising
// APPENDLIMIT=100 (RFC 7889) and LITERAL+: a 200-byte message is streamed
// whole as {200+} and only then refused; with LITERAL+ the server may
// even close the connection. RFC 7889 asks clients not to send what is
// over the limit; the library knows the size before the literal header:
// expected, an error before any APPEND is sent (a typed one, so that
// import/copy can tell "too big" from a failure of the session).
func TestAppendOverAppendLimitFake(t *testing.T) {
	c, ctx, f := rawClient(t, "IMAP4rev1 LITERAL+ MULTIAPPEND APPENDLIMIT=100", func(c rawCmd) string {
		return c.Tag + " NO [TOOBIG] too big\r\n"
	})
	msg := bytes.Repeat([]byte("a"), 200)
	_, err := c.AppendBytes(ctx, "INBOX", msg, nil)
	if n := len(rawAppends(f)); n != 0 {
		t.Errorf("a 200-byte APPEND went out to a server with APPENDLIMIT=100 (%d sent); error %v", n, err)
	}
	if err == nil {
		t.Fatal("no error")
	}
	if errors.Is(err, session.ErrNo) {
		t.Errorf("the caller learnt of the limit only from the server's NO: %v", err)
	}
}

// TestAppendShortReaderNotSent: a reader whose length is
// known and short of the size given is refused before anything is sent
// (it aborted the session in the middle of the literal); the session goes
// on.
func TestAppendShortReaderNotSent(t *testing.T) {
	c, ctx, f := rawClient(t, "IMAP4rev1 LITERAL+", func(c rawCmd) string { return "" })
	_, err := c.Append(ctx, "INBOX", strings.NewReader("short"), 10, nil)
	if !errors.Is(err, commands.ErrSizeMismatch) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Append: %v; want ErrSizeMismatch and io.ErrUnexpectedEOF", err)
	}
	if n := len(rawAppends(f)); n != 0 {
		t.Fatalf("%d APPEND sent", n)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatalf("NOOP after: %v", err)
	}
}

// TestAppendNULDovecot: a message holding a NUL, appended
// without AppendOptions.Binary to Dovecot (which has BINARY). Given in
// memory, it is sent as literal8 and stored exactly (BINARY.PEEK[] gives
// the NUL back; sent in a plain literal, Dovecot stored 0x80). From any
// other reader, the NUL is found as it is sent: the session is aborted
// with an error wrapping wire.ErrNUL, and nothing is stored.
func TestAppendNULDovecot(t *testing.T) {
	ctx := dvCtx(t)
	t.Run("memory", func(t *testing.T) {
		c := dvClient(t, testserver.Alice, nil)
		mb := dvMailbox(t, testserver.Alice, 0)
		if _, err := c.AppendBytes(ctx, mb, nulMsg, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Select(ctx, mb, nil); err != nil {
			t.Fatal(err)
		}
		if got := dvBody(t, c, 1, true); !bytes.Equal(got, nulMsg) {
			t.Fatalf("stored %q; want %q", got, nulMsg)
		}
	})
	t.Run("stream", func(t *testing.T) {
		c := dvClient(t, testserver.Alice, nil)
		mb := dvMailbox(t, testserver.Alice, 0)
		_, err := c.Append(ctx, mb, io.MultiReader(bytes.NewReader(nulMsg)), int64(len(nulMsg)), nil)
		if !errors.Is(err, wire.ErrNUL) {
			t.Fatalf("Append: %v; want an error wrapping wire.ErrNUL", err)
		}
		if n := len(dvMessages(t, dvClient(t, testserver.Alice, nil), mb)); n != 0 {
			t.Fatalf("%d messages stored; want none", n)
		}
	})
}

// TestAppendBadArgInjectionDovecot: an APPEND argument that
// Dovecot refuses while parsing, before the message, is not only a
// refused command. Dovecot (LITERAL+, so the message goes at once as a
// non-synchronizing literal) answers BAD as soon as it parses the bad
// argument, and then reads the message as command lines: a message whose
// body holds "X1 CREATE name" makes Dovecot create that mailbox. Whoever
// writes the message (mail being imported or copied, with its date and
// flags) runs commands on the account; the session then aborts on the
// tag X1 it never sent. The arguments that do it, all passed without an
// error by Append and AppendMany:
//
//   - a date outside years 0-9999 (AppendInternalDate writes "10000" or
//     "-1", "not valid IMAP"): "BAD Invalid internal date";
//   - a flag with a backslash that is no system flag Dovecot allows: a
//     typo such as `\Seeen` (which Search refuses for this very reason),
//     or `\Recent`: "BAD Invalid system flag".
func TestAppendBadArgInjectionDovecot(t *testing.T) {
	ctx := dvCtx(t)
	mb := dvMailbox(t, "alice", 0)
	cases := []struct {
		name   string
		append func(ctx context.Context, c *commands.Client, body []byte) error
	}{
		{"date-year-10000", func(ctx context.Context, c *commands.Client, body []byte) error {
			_, err := c.AppendBytes(ctx, mb, body, &commands.AppendOptions{Date: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
			return err
		}},
		{"flag-typo", func(ctx context.Context, c *commands.Client, body []byte) error {
			_, err := c.AppendBytes(ctx, mb, body, &commands.AppendOptions{Flags: []string{`\Seeen`}})
			return err
		}},
		{"flag-recent", func(ctx context.Context, c *commands.Client, body []byte) error {
			_, err := c.AppendBytes(ctx, mb, body, &commands.AppendOptions{Flags: []string{commands.FlagRecent}})
			return err
		}},
		{"multiappend-date-year-minus-5", func(ctx context.Context, c *commands.Client, body []byte) error {
			_, err := c.AppendMany(ctx, mb, []commands.AppendMessage{
				{R: bytes.NewReader([]byte("a\r\n")), Size: 3},
				{R: bytes.NewReader(body), Size: int64(len(body)),
					Options: &commands.AppendOptions{Date: time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)}},
			})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			victim := mb + "/injected-" + tc.name
			c := dvClient(t, "alice", nil)
			err := tc.append(ctx, c, []byte("X1 CREATE "+victim+"\r\n"))
			t.Logf("append: %v", err)
			// Dovecot answers in order: once the NOOP is answered (or
			// the session aborted on X1's answer), what came before it
			// has run.
			c.Noop(ctx)
			l, err := dvClient(t, "alice", nil).List(ctx, victim, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(l) > 0 {
				t.Errorf("the message body ran as a command: mailbox %q exists", l[0].Name)
			}
		})
	}
}

// TestAppendDateOutOfRange: an INTERNALDATE's year is 4DIGIT (RFC
// 3501 and 9051, date-year) and its zone "+"/"-" 4DIGIT. AppendOptions.Date
// in year 10000 or before year 0 goes out as "01-Jan-10000 ..." or
// "01-Jan--1 ..." (codec.AppendInternalDate says: "not valid IMAP"), and
// a zone offset of 100 hours or more is written modulo 100 hours: +100:01
// goes as "+0001", another instant, without an error.
func TestAppendDateOutOfRange(t *testing.T) {
	c, srv, ctx := zzClient(t, "", true)
	for _, d := range []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		zzRefused(t, srv, "Append(Date "+d.String()+")", func() error {
			_, err := c.AppendBytes(ctx, "INBOX", []byte("x"), &commands.AppendOptions{Date: d})
			return err
		})
	}
	// An offset of 100 hours or more has no two-digit form: the same
	// instant goes in UTC (it went as "+0001", another instant).
	far := time.Date(2020, 1, 1, 0, 0, 0, 0, time.FixedZone("far", 100*3600+60))
	if _, err := c.AppendBytes(ctx, "INBOX", []byte("x"), &commands.AppendOptions{Date: far}); err != nil {
		t.Fatal(err)
	}
	if sent := srv.sent(); len(sent) == 0 || !strings.Contains(sent[len(sent)-1], `"27-Dec-2019 19:59:00 +0000"`) {
		t.Errorf("Append(Date %v) sent %q; want it in UTC", far, sent)
	}
}

// TestAppendManyOpenOverAppendLimitFake: ErrTooBig (RFC 7889,
// "returned before it is sent") is checked for Append and for AppendMany's
// messages given with R and Size, but not for one given with Open: the
// Open wrapper (append.go, AppendMany) checks the size, normalises and
// guards NUL, and never calls checkAppendLimit. A 200-byte message opened
// mid-command goes out whole to a server with APPENDLIMIT=100 (and LITERAL+:
// the server may close the connection rather than read it). imapkit copy
// opens every message this way.
func TestAppendManyOpenOverAppendLimitFake(t *testing.T) {
	c, ctx, f := rawClient(t, "IMAP4rev1 LITERAL+ MULTIAPPEND APPENDLIMIT=100", func(c rawCmd) string {
		return c.Tag + " NO [TOOBIG] too big\r\n"
	})
	big := bytes.Repeat([]byte("a"), 200)
	_, err := c.AppendMany(ctx, "INBOX", []commands.AppendMessage{
		{R: strings.NewReader("small\r\n"), Size: 7},
		{Open: func() (io.Reader, int64, error) { return bytes.NewReader(big), int64(len(big)), nil }},
	})
	t.Logf("AppendMany: %v", err)
	for _, a := range rawAppends(f) {
		if bytes.Contains(a.Raw, []byte("{200")) {
			t.Fatalf("a 200-byte message went out to a server with APPENDLIMIT=100: %q", a.Raw[:60])
		}
	}
	if !errors.Is(err, commands.ErrTooBig) {
		t.Errorf("error %v; want one wrapping ErrTooBig", err)
	}
}

// TestAppendNormalizeCRLFNULDovecot: AppendOptions.Binary's doc
// says a message given in memory (a []byte, a *bytes.Reader) holding a
// NUL is sent as literal8 when the server has BINARY. With NormalizeCRLF
// (imaplib's conversion) the in-memory reader is replaced by a crlfReader
// before checkNUL (prepareAppend), which therefore wraps it in a nulGuard:
// the session is aborted mid-literal, on Dovecot, which has BINARY.
func TestAppendNormalizeCRLFNULDovecot(t *testing.T) {
	ctx := dvCtx(t)
	mb := dvMailbox(t, "alice", 0)
	c := dvClient(t, "alice", nil)
	msg := []byte("Subject: nul\n\nbefore\x00after\n")
	_, err := c.AppendBytes(ctx, mb, msg, &commands.AppendOptions{NormalizeCRLF: true})
	if err != nil {
		t.Errorf("AppendBytes (in memory, NormalizeCRLF, a NUL, server with BINARY): %v; want it sent as literal8", err)
	}
	if errors.Is(err, session.ErrAborted) || c.Noop(ctx) != nil {
		t.Errorf("the session was aborted")
	}
}

// TestAppendFileChangedAfterNULCheck: 08c27ad made checkNUL scan a
// file (io.ReaderAt + io.Seeker) before the APPEND and, finding no NUL,
// send it with no nulGuard (before, a file was always guarded). The scan
// and the send are two reads of a file that may change in between (an
// mbox or Maildir file being written, a message file rewritten while the
// APPEND waits for the server's "+"): a NUL that appears in between now
// goes out in a plain literal (Dovecot stores it as 0x80, silently),
// where the nulGuard of the previous code failed the literal with
// wire.ErrNUL and nothing was stored.
func TestAppendFileChangedAfterNULCheck(t *testing.T) {
	msg := []byte("Subject: x\r\n\r\nhello world, no NUL here\r\n")
	path := filepath.Join(t.TempDir(), "msg.eml")
	if err := os.WriteFile(path, msg, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// The file changes while the APPEND waits for "+" (no LITERAL+).
	change := func() {
		w, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer w.Close()
		if _, err := w.WriteAt([]byte{0}, 20); err != nil {
			t.Error(err)
		}
	}
	c, ctx, fk := rawClientHook(t, "IMAP4rev1", change, nil)
	_, err = c.Append(ctx, "INBOX", f, int64(len(msg)), nil)
	t.Logf("Append: %v", err)
	for _, a := range rawAppends(fk) {
		if bytes.IndexByte(a.Raw, 0) >= 0 && !bytes.Contains(a.Raw, []byte("~{")) {
			t.Errorf("a NUL went out in a plain literal (the file changed after checkNUL): %q", a.Raw)
		}
	}
	if !errors.Is(err, wire.ErrNUL) {
		t.Errorf("Append: %v; want an error wrapping wire.ErrNUL (nothing stored)", err)
	}
}

// TestAppendFileNULUTF8Form: with UTF8=ACCEPT enabled, Append
// sends the UTF8 form, a literal8, and appendMessage unwraps the nulGuard
// ("literal8: NUL is allowed"); AppendMany skips checkNUL in that form.
// Since 08c27ad checkNUL also scans files, and refuses one holding a NUL
// with wire.ErrNUL when the server lacks BINARY, before looking at the
// UTF8 form: the file that went before 08c27ad (guarded, then unwrapped),
// and that still goes streamed or through AppendMany, is now refused by
// Append.
func TestAppendFileNULUTF8Form(t *testing.T) {
	msg := []byte("Subject: x\r\n\r\nbefore\x00after\r\n")
	path := filepath.Join(t.TempDir(), "msg.eml")
	if err := os.WriteFile(path, msg, 0o600); err != nil {
		t.Fatal(err)
	}
	c, ctx, fk := rawClientHook(t, "IMAP4rev1 LITERAL+ MULTIAPPEND ENABLE UTF8=ACCEPT", nil, func(c rawCmd) string {
		if bytes.Contains(c.Raw, []byte(" ENABLE ")) {
			return "* ENABLED UTF8=ACCEPT\r\n" + c.Tag + " OK done\r\n"
		}
		return ""
	})
	if _, err := c.Enable(ctx, "UTF8=ACCEPT"); err != nil {
		t.Fatal(err)
	}
	open := func() *os.File {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	// The same file through AppendMany, and streamed: sent (UTF8 form).
	if _, err := c.AppendMany(ctx, "INBOX", []commands.AppendMessage{{R: open(), Size: int64(len(msg))}}); err != nil {
		t.Fatalf("AppendMany (UTF8 form): %v", err)
	}
	if _, err := c.Append(ctx, "INBOX", io.MultiReader(open()), int64(len(msg)), nil); err != nil {
		t.Fatalf("Append, streamed (UTF8 form): %v", err)
	}
	_, err := c.Append(ctx, "INBOX", open(), int64(len(msg)), nil)
	if err != nil {
		t.Errorf("Append of the file (UTF8 form, a literal8): %v; want it sent, as streamed and by AppendMany", err)
	}
	_, err = c.Append(ctx, "INBOX", io.NewSectionReader(open(), 0, int64(len(msg))), int64(len(msg)), nil)
	if err != nil {
		t.Errorf("Append of an io.SectionReader (UTF8 form): %v; want it sent", err)
	}
	t.Logf("%d APPENDs reached the server", len(rawAppends(fk)))
}

// checkDate refuses a date whose year lies outside 0-9999 in its own zone
// or in UTC; but AppendInternalDate writes the date in its own zone (UTC
// only for an offset of 100 hours or more), so "31-Dec-9999 23:00:00
// -0500", a valid INTERNALDATE that Dovecot takes (and holds for a
// message appended so; imapkit copy passes it on), is refused before
// sending: the message cannot be appended, and a copy fails at it at
// every run.
func TestAppendDateYearEdgeAccepted(t *testing.T) {
	c, ctx, f := rawClient(t, "IMAP4rev1 LITERAL+ UIDPLUS", nil)
	for _, d := range []time.Time{
		time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("", -5*3600)),
		time.Date(0, 1, 1, 0, 30, 0, 0, time.FixedZone("", 3600)),
	} {
		msg := "Subject: x\r\n\r\nx\r\n"
		_, err := c.Append(ctx, "INBOX", strings.NewReader(msg), int64(len(msg)), &commands.AppendOptions{Date: d})
		if err != nil {
			t.Errorf("Append with date %s (an IMAP date: %q): %v", d, codec.AppendInternalDate(nil, d), err)
		}
	}
	t.Logf("sent: %d APPENDs", len(rawAppends(f)))
}

// TestAppendDateEdgeDovecot: the dates checkInternalDate lets
// through since the check counts the year as written, whose UTC year lies
// outside 0-9999, are taken by Dovecot as arguments (no BAD before the
// literal, so no message body read as commands): each APPEND succeeds and
// the body's command does not run.
func TestAppendDateEdgeDovecot(t *testing.T) {
	ctx := dvCtx(t)
	mb := dvMailbox(t, "alice", 0)
	c := dvClient(t, "alice", nil)
	for i, d := range []time.Time{
		time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("", -5*3600)),
		time.Date(0, 1, 1, 0, 30, 0, 0, time.FixedZone("", 3600)),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("", -(99*3600+59*60))),
	} {
		victim := fmt.Sprintf("%s/injected-%d", mb, i)
		if _, err := c.AppendBytes(ctx, mb, []byte("X1 CREATE "+victim+"\r\n"), &commands.AppendOptions{Date: d}); err != nil {
			t.Errorf("Append dated %q: %v", codec.AppendInternalDate(nil, d), err)
		}
		if l, err := c.List(ctx, victim, nil); err != nil || len(l) > 0 {
			t.Errorf("date %q: the body ran as a command (%v, %v)", codec.AppendInternalDate(nil, d), l, err)
		}
	}
}

// TestQueuedAppendAbortNotSent: two goroutines append to one Client
// (the docs say methods are safe for concurrent use and pipelined). The
// network freezes while the first, a 20 MiB message, is mid-literal; the
// second (a 17-byte message) waits for its turn to be written, not a
// byte of it sent. Then the server dies (the connection is cut). The
// second Append returns the first one's *AbortError, "wire: literal
// body (4194252 of 20971569 bytes sent): ...", which names a literal it
// never had, and does not match session.ErrNotSent: by the docs ("Any
// other error of a command that was started means it may have run") its
// message may have been stored, so a careful caller cannot retry it
// without risking a duplicate, though it certainly was not sent.
func TestQueuedAppendAbortNotSent(t *testing.T) {
	mb := dvMailbox(t, testserver.Alice, 0)
	r := faultrelay.New(t, dvServer(t).PlainAddr)
	c := relayClient(t, r)
	r.Freeze()
	big := relayBigMsg(1, 20<<20)
	errA := make(chan error, 1)
	go func() {
		_, err := c.Append(context.Background(), mb, bytes.NewReader(big), int64(len(big)), nil)
		errA <- err
	}()
	waitParked(t, "A blocked mid-literal", "commands.(*Client).Append", "internal/poll.(*FD).Write")
	small := []byte("Subject: x\r\n\r\nx\r\n")
	errB := make(chan error, 1)
	go func() {
		_, err := c.Append(context.Background(), mb, bytes.NewReader(small), int64(len(small)), nil)
		errB <- err
	}()
	waitParked(t, "B waiting for its turn to write", "commands.(*Client).Append", "session.(*writeLock).lockCtx")
	r.Cut()
	ea, eb := <-errA, <-errB
	t.Logf("A (mid-literal): %v", ea)
	t.Logf("B (never written): %v", eb)
	if !errors.Is(eb, session.ErrNotSent) {
		t.Fatalf("the queued APPEND, of which no byte was sent, returned %v: not a *session.NotSentError, so it may have run by the docs", eb)
	}
}

// TestAppendNegativeYearRefused: eb0d5a1 replaced Append's date check
// (year in 0-9999, in its zone and in UTC) by "the written INTERNALDATE
// is 26 bytes long". codec.AppendInternalDate writes a year outside
// 0-9999 with strconv.AppendInt, and a year from -999 to -100 takes four
// characters ("-100"): the check passes, and Append sends
// "01-Jan--100 00:00:00 +0000", which Dovecot answers BAD before the
// literal. With LITERAL+ the body is sent anyway and runs as commands:
// the message "X1 CREATE victim" creates the mailbox. Before eb0d5a1 the
// date was refused (y < 0) and nothing was sent.
func TestAppendNegativeYearRefused(t *testing.T) {
	ctx := dvCtx(t)
	mb := dvMailbox(t, "alice", 0)
	c := dvClient(t, "alice", nil)
	d := time.Date(-100, 1, 1, 0, 0, 0, 0, time.UTC)
	victim := fmt.Sprintf("%s/zz-injected", mb)
	_, err := c.AppendBytes(ctx, mb, []byte("X1 CREATE "+victim+"\r\n"), &commands.AppendOptions{Date: d})
	if err == nil || !strings.Contains(err.Error(), "four digits") {
		t.Errorf("Append dated %q (year %d): %v; want the date refused before anything is sent", codec.AppendInternalDate(nil, d), d.Year(), err)
	}
	c2 := dvClient(t, "alice", nil)
	if l, err := c2.List(ctx, victim, nil); err != nil || len(l) > 0 {
		t.Errorf("the message body ran as a command: LIST %s = %v, %v", victim, l, err)
	}
}

// appendAnswer reads an APPEND's literals (one or, MULTIAPPEND, several,
// each announced at the end of the line before it; the client uses
// LITERAL+) and answers "OK "+code.
func appendAnswer(code string) func(hc *hostile.Conn, cmd *hostile.Command) error {
	return func(hc *hostile.Conn, cmd *hostile.Command) error {
		n := cmd.Literal
		for n >= 0 {
			if _, err := hc.ReadLiteral(n); err != nil {
				return err
			}
			line, err := hc.ReadLine()
			if err != nil {
				return err
			}
			n = hostile.ParseCommand("x X " + line).Literal
		}
		return hc.Reply(cmd.Tag, "OK "+code+" done")
	}
}

// TestAppendUIDCount: the APPENDUID of an APPEND of one message
// names one UID. Append (and Replace, AppendCatenate: appendResult) took
// the first UID of whatever set came, so "[APPENDUID 7 12:14]" (or
// "12,12") reported UID 12 as the message's, broken or hostile input
// taken as a fact. AppendMany returned any set, of any count, as the
// UIDs of its messages "in order". Such a code now counts as none, as a
// code the codec drops: Append returns UIDValidity 0 and UID 0, AppendMany
// an empty result; the right count is kept.
func TestAppendUIDCount(t *testing.T) {
	for _, c := range []struct {
		code    string
		uid     uint32 // the single Append's; 0: none
		manyOK  bool   // AppendMany of two messages keeps it
		manySet string // its UIDs in order
	}{
		{"[APPENDUID 7 12]", 12, false, ""},
		{"[APPENDUID 7 12:14]", 0, false, ""},
		{"[APPENDUID 7 12:13]", 0, true, "12,13"},
		{"[APPENDUID 7 12,12]", 0, false, ""},
		{"[APPENDUID 7 13,12]", 0, true, "13,12"},
		{"[APPENDUID 7 12:13,13]", 0, false, ""},
		{"[APPENDUID 7 12,14,16]", 0, false, ""},
	} {
		ctx, c2 := fakeClient(t, fakeServer{caps: "IMAP4rev1 UIDPLUS LITERAL+ MULTIAPPEND", on: handlers{
			"APPEND": appendAnswer(c.code),
		}})
		ar, err := c2.Append(ctx, "Dst", strings.NewReader("x\r\n"), 3, nil)
		if err != nil {
			t.Fatalf("%s: Append: %v", c.code, err)
		}
		wantV := uint32(0)
		if c.uid != 0 {
			wantV = 7
		}
		if ar.UID != c.uid || ar.UIDValidity != wantV {
			t.Errorf("Append with %s: UIDValidity %d, UID %d; want %d, %d", c.code, ar.UIDValidity, ar.UID, wantV, c.uid)
		}
		mr, err := c2.AppendMany(ctx, "Dst", []commands.AppendMessage{
			{R: strings.NewReader("x\r\n"), Size: 3},
			{R: strings.NewReader("y\r\n"), Size: 3},
		})
		if err != nil {
			t.Fatalf("%s: AppendMany: %v", c.code, err)
		}
		if c.manyOK {
			var got []string
			for u := range mr.UIDs.All {
				got = append(got, strconv.FormatUint(uint64(u), 10))
			}
			if mr.UIDValidity != 7 || strings.Join(got, ",") != c.manySet {
				t.Errorf("AppendMany with %s: %d %v; want 7 %s", c.code, mr.UIDValidity, mr.UIDs, c.manySet)
			}
		} else if mr.UIDValidity != 0 || !mr.UIDs.IsEmpty() {
			t.Errorf("AppendMany of two with %s: %d %v; want none", c.code, mr.UIDValidity, mr.UIDs)
		}
	}
}

// TestAppendBlockedReaderCancel: an Append whose message is an
// io.Reader that blocks (a pipe whose writer stalls after 1000 bytes)
// returns when its context is cancelled, with an error matching
// context.Canceled, and the session is aborted (half a literal is on the
// wire), which wakes a NOOP waiting behind it with an *AbortError that
// does not match context.Canceled (its own context did not end). The
// Append waited in the Read for ever, and the NOOP with it (its context
// cannot end); the library's defaults (no option has a bound on a
// caller's Read). The goroutine reading the body ends when the pipe is
// closed (leakcheck). The same for AppendMany's message opened by Open.
func TestAppendBlockedReaderCancel(t *testing.T) {
	for _, c := range []struct {
		name, caps string
		open       bool // AppendMany, the message's reader from Open
	}{{"Sync", "IMAP4rev1", false}, {"LiteralPlus", "IMAP4rev1 LITERAL+", false}, {"Open", "IMAP4rev1 MULTIAPPEND", true}} {
		caps := c.caps
		t.Run(c.name, func(t *testing.T) {
			cl := serveClient(t, caps, func(server net.Conn) {
				r := bufio.NewReader(server)
				line, err := r.ReadString('\n')
				if err != nil || !strings.Contains(line, "APPEND") {
					return
				}
				if !strings.HasSuffix(line, "+}\r\n") {
					server.Write([]byte("+ go\r\n"))
				}
				io.Copy(io.Discard, r) // the literal, never complete
			})
			pr, pw := io.Pipe()
			t.Cleanup(func() { pw.Close() })
			half := make(chan struct{})
			go func() {
				pw.Write(bytes.Repeat([]byte("x"), 1000)) // returns once read
				close(half)
			}()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			appended := make(chan error, 1)
			go func() {
				if c.open {
					_, err := cl.AppendMany(ctx, "INBOX", []commands.AppendMessage{{Open: func() (io.Reader, int64, error) { return pr, 10000, nil }}})
					appended <- err
					return
				}
				_, err := cl.Append(ctx, "INBOX", pr, 10000, nil)
				appended <- err
			}()
			guard := time.NewTimer(10 * time.Second)
			defer guard.Stop()
			select {
			case <-half:
			case err := <-appended:
				t.Fatalf("Append returned before reading its message: %v", err)
			case <-guard.C:
				t.Fatal("the message was not read")
			}
			nooped := make(chan error, 1)
			go func() { nooped <- cl.Noop(context.Background()) }()
			cancel()
			select {
			case err := <-appended:
				if !errors.Is(err, context.Canceled) || !errors.Is(err, session.ErrAborted) {
					t.Fatalf("Append: %v", err)
				}
			case <-guard.C:
				t.Fatal("Append still blocked in its body's Read 10 s after its context was cancelled")
			}
			select {
			case err := <-nooped:
				if !errors.Is(err, session.ErrAborted) || errors.Is(err, context.Canceled) {
					t.Fatalf("NOOP: %v", err)
				}
			case <-guard.C:
				t.Fatal("NOOP still waiting behind the cancelled Append")
			}
		})
	}
}

// BenchmarkAppend100MiBCtx is BenchmarkAppend100MiB with a
// context that can end (the common case: a deadline or a cancel), the
// path on which a blocked body read must be interruptible.
func BenchmarkAppend100MiBCtx(b *testing.B) {
	c := pipeClient(b, "IMAP4rev1 LITERAL+", appendDiscardServer)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	benchmarkAppendFlat(b, c, ctx)
}

// panicBody blocks in its Read until released, then panics.
type panicBody struct {
	in      chan struct{} // closed when the Read has begun
	release chan struct{}
}

func (b *panicBody) Read(p []byte) (int, error) {
	close(b.in)
	<-b.release
	panic("panicBody: the body's Read panicked")
}

// TestAppendBodyPanicAfterGraceNotLost (found by review): a caller's body
// Read that panics after the writer stopped waiting for it (the context
// ended, the grace passed, Append returned) was recovered on the session's
// pump goroutine and dropped: a bug in the caller's reader went unseen. It
// is raised on that goroutine now, as net/http does: the process crashes
// with it. Run in a child process (the crash is the outcome); the child
// cancels only once the Read is known to be blocked. The defaults.
func TestAppendBodyPanicAfterGraceNotLost(t *testing.T) {
	if os.Getenv("IMAPKIT_APPEND_PANIC_CHILD") == "1" {
		appendPanicChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAppendBodyPanicAfterGraceNotLost$", "-test.count=1")
	cmd.Env = append(os.Environ(), "IMAPKIT_APPEND_PANIC_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "panic: panicBody: the body's Read panicked") {
		t.Fatalf("the child did not crash with the Read's panic (%v):\n%s", err, out)
	}
}

func appendPanicChild(t *testing.T) {
	cl := serveClient(t, "IMAP4rev1 LITERAL+", okLiteralServer)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := &panicBody{in: make(chan struct{}), release: make(chan struct{})}
	go func() {
		<-b.in
		cancel()
	}()
	_, err := cl.Append(ctx, "INBOX", b, 100, nil)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, session.ErrWriteCut) {
		t.Fatalf("Append: %v", err)
	}
	close(b.release)
	// The Read now panics on the pump's goroutine, which must crash the
	// process. Waited for, not slept for (5 s were taken to be enough):
	// the child returns (and the parent fails) only once the pump has
	// gone without crashing it, the panic dropped; a minute is a bound
	// against a hang.
	for deadline := time.Now().Add(time.Minute); heldPumpsNow() > 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
}

// heldPumpsNow counts the goroutines whose stacks show session.pump.
func heldPumpsNow() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return bytes.Count(buf[:n], []byte("imapkit/session.pump("))
		}
		buf = make([]byte, 2*len(buf))
	}
}

// failingBody gives 10 bytes, then fails.
type failingBody struct{ n int }

func (b *failingBody) Read(p []byte) (int, error) {
	if b.n == 0 {
		b.n = copy(p, "Subject: x")
		return b.n, nil
	}
	return 0, errors.New("failingBody: the source failed")
}

// TestAppendWriteCutWithoutContext: an APPEND cut off in its literal
// for a reason other than its context (the message's Read failed; the
// context cannot end, so the body is read on the writer's goroutine)
// fails with an error matching session.ErrWriteCut and ErrAborted, the
// sign that nothing was appended, which the CLI's appender now reads
// instead of a flag its reader set. The defaults.
func TestAppendWriteCutWithoutContext(t *testing.T) {
	for _, ctxCanEnd := range []bool{false, true} {
		cl := serveClient(t, "IMAP4rev1 LITERAL+", okLiteralServer)
		ctx := context.Background()
		if ctxCanEnd {
			var cancel context.CancelFunc
			ctx, cancel = context.WithCancel(ctx)
			defer cancel()
		}
		_, err := cl.Append(ctx, "INBOX", &failingBody{}, 100, nil)
		if !errors.Is(err, session.ErrWriteCut) || !errors.Is(err, session.ErrAborted) || errors.Is(err, context.Canceled) {
			t.Fatalf("ctx can end %v: Append: %v", ctxCanEnd, err)
		}
	}
}

// fileLikeBody is a body that is not one of the in-memory readers
// the session reads directly (a file, say): it is pumped.
type fileLikeBody struct{ r io.Reader }

func (f *fileLikeBody) Read(p []byte) (int, error) { return f.r.Read(p) }

// TestMultiAppendPumpsReleasedPerBody (found by review): an AppendMany of 400
// messages, each a reader that is not in memory, with a context that can
// end (the common case). Each message's body gets its own goroutine and a
// pooled 16 KiB buffer at its first Read (ctxbody.go), and they are let go
// only when the whole command is written (send's deferred release), not
// when the body is done: by the last message's Open, 399 goroutines and
// 399 x 16 KiB (6.2 MiB) are held for bodies already sent. Memory grows
// with the group (a library caller's AppendMany has no bound on its
// messages); before 54d4656 it was flat: no goroutine at all. A body
// read to its end (its LimitedReader at 0) could let its pump go at once.
func TestMultiAppendPumpsReleasedPerBody(t *testing.T) {
	const n = 400
	cl := serveClient(t, "IMAP4rev1 MULTIAPPEND LITERAL+", okLiteralServer)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var atLast int
	msgs := make([]commands.AppendMessage, n)
	for i := range msgs {
		last := i == n-1
		msgs[i].Open = func() (io.Reader, int64, error) {
			if last {
				atLast = heldPumps(16)
			}
			return &fileLikeBody{strings.NewReader("Subject: x\r\n\r\nbody\r\n")}, 20, nil
		}
	}
	if _, err := cl.AppendMany(ctx, "INBOX", msgs); err != nil {
		t.Fatal(err)
	}
	if atLast > 16 {
		t.Fatalf("%d body pumps (each with a 16 KiB buffer) held at the last message's Open for %d bodies already sent", atLast, n-1)
	}
}

// heldPumps counts the session's body pump goroutines (session.pump, one
// per body read with a context that can end), waiting up to 10 s for the
// count to come down to most: a pump let go exits on its own goroutine,
// which a loaded machine may not have run yet (the count of every
// goroutine in the process, compared with one taken before, failed once
// under load with 17 of 16). A pump held until the command's end (the
// fault) never exits while the caller's Open runs, and the count stays.
func heldPumps(most int) int {
	deadline := time.Now().Add(10 * time.Second)
	buf := make([]byte, 1<<20)
	for {
		for {
			n := runtime.Stack(buf, true)
			if n < len(buf) {
				buf = buf[:n]
				break
			}
			buf = make([]byte, 2*len(buf))
		}
		held := bytes.Count(buf, []byte("imapkit/session.pump("))
		if held <= most || time.Now().After(deadline) {
			return held
		}
		buf = buf[:cap(buf)]
		time.Sleep(time.Millisecond)
	}
}

// slowBody is a message read from a slow source: each Read
// takes 10 ms (well less than writeGrace, 50 ms) and gives the whole
// message.
// It counts the Reads that start after the context's end.
type slowBody struct {
	r       io.Reader
	onFirst func()
	ctx     context.Context
	late    *atomic.Int32
}

func (b *slowBody) Read(p []byte) (int, error) {
	if b.onFirst != nil {
		b.onFirst()
		b.onFirst = nil
	}
	if b.ctx.Err() != nil {
		b.late.Add(1)
	}
	time.Sleep(10 * time.Millisecond)
	return b.r.Read(p)
}

// TestMultiAppendGracePerCommand (found by review): a7af9e3 gives a
// body's reads writeGrace (50 ms) "in all from the first that found the
// context ended", but the grace was kept per body (ctxBody.graceEnd), not
// per command: in an AppendMany each body read after the context's end
// started a fresh 50 ms. The review's case: 30 small messages whose Reads
// took 30 ms each, the context cancelled as the first was read: the
// command went on reading one message after the other, all 30 (0.9 s past
// the context's end where a write gets 50 ms; with 1,000 messages, 30 s).
// Here 40 messages of 10 ms Reads (so that a fresh grace per body is
// never missed on a loaded machine): the grace belongs to the command now
// (bodyGroup), the Reads started after the cancel are those that fit in
// 50 ms (six at most, fewer on a loaded machine, whose slower Reads fit
// fewer), and the command is cut with the session aborted. Counted, not
// timed: a loaded machine only makes the count smaller. With the grace
// per body, all 40 are read.
func TestMultiAppendGracePerCommand(t *testing.T) {
	const n = 40
	cl := serveClient(t, "IMAP4rev1 MULTIAPPEND LITERAL+", okLiteralServer)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var late atomic.Int32
	msgs := make([]commands.AppendMessage, n)
	for i := range msgs {
		b := &slowBody{r: strings.NewReader("Subject: x\r\n\r\nbody\r\n"), ctx: ctx, late: &late}
		if i == 0 {
			b.onFirst = cancel
		}
		msgs[i] = commands.AppendMessage{R: b, Size: 20}
	}
	_, err := cl.AppendMany(ctx, "INBOX", msgs)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("AppendMany: %v", err)
	}
	if got := late.Load(); got > 15 {
		t.Fatalf("%d of %d bodies read after the context's end (AppendMany: %v): the grace (50 ms) is not the command's", got, n, err)
	}
	if !errors.Is(err, session.ErrWriteCut) || !errors.Is(err, session.ErrAborted) {
		t.Fatalf("AppendMany: %v: not cut (ErrWriteCut, ErrAborted)", err)
	}
}

// writeCutBody gives 10 bytes, then fails with an error that wraps
// session.ErrWriteCut: a body read from another session (copy's source
// FETCH, started inside the first body Read by iter.Pull2), whose own
// command was cut off while written.
type writeCutBody struct{ n int }

func (b *writeCutBody) Read(p []byte) (int, error) {
	if b.n == 0 {
		b.n = copy(p, "Subject: x")
		return b.n, nil
	}
	return 0, fmt.Errorf("source: %w", session.ErrWriteCut)
}

// TestAppendCutOtherCommandNotWriteCut (found by review): a NOOP written whole (the server has
// read its line) waits for its answer when an APPEND pipelined behind it
// fails in its literal, the body's Read error wrapping ErrWriteCut (a
// reader over another session). The session aborts; the APPEND's error
// matches ErrWriteCut (it was cut), but so does the NOOP's: the abort's
// cause (the raw body error) is in every other command's *AbortError
// chain, so a command that reached the server whole (and may have run)
// is taken for "the server did not run it". The defaults.
func TestAppendCutOtherCommandNotWriteCut(t *testing.T) {
	gotNoop := make(chan struct{})
	cl := serveClient(t, "IMAP4rev1 LITERAL+", noopWatchServer(gotNoop))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	noopErr := make(chan error, 1)
	go func() { noopErr <- cl.Noop(ctx) }()
	select {
	case <-gotNoop:
	case <-ctx.Done():
		t.Fatal("NOOP never reached the server")
	}
	_, err := cl.Append(context.Background(), "INBOX", &writeCutBody{}, 100, nil)
	if !errors.Is(err, session.ErrWriteCut) {
		t.Fatalf("Append: %v, want ErrWriteCut", err)
	}
	nerr := <-noopErr
	if nerr == nil {
		t.Fatal("NOOP succeeded")
	}
	if errors.Is(nerr, session.ErrWriteCut) {
		t.Fatalf("the NOOP, written whole before the APPEND, matches ErrWriteCut: %v", nerr)
	}
}

// remoteNOBody gives 10 bytes, then fails with another session's NO (a
// body piped from a FETCH on another server, which answered NO: the
// pipe's writer closed it with the FETCH's error).
type remoteNOBody struct{ n int }

func (b *remoteNOBody) Read(p []byte) (int, error) {
	if b.n == 0 {
		b.n = copy(p, "Subject: x")
		return b.n, nil
	}
	return 0, fmt.Errorf("source: %w", &session.StatusError{Command: "FETCH", Status: &codec.Status{Kind: codec.StatusNO, Text: codec.Bytes("no such message")}})
}

// TestAppendBodyStatusErrorKeepsSessionInStep (found by review): an APPEND whose
// body's Read fails mid-literal with an error wrapping a *StatusError (a
// reader over another session's FETCH that ended NO) is taken by send
// for "the server refused the literal" (write.go: errors.As(err, &se)):
// send returns nil, the session is not aborted, and the command waits for
// an answer with 90 of its literal's 100 bytes never sent. The next
// command's bytes (here a NOOP) complete the literal: the server appends
// a message made of the NOOP's line, and the session is out of step. The
// APPEND's error neither matches ErrWriteCut nor ErrAborted (it waits
// until the stall timeout). The defaults.
func TestAppendBodyStatusErrorKeepsSessionInStep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		got := make(chan string, 4)
		cl := serveClient(t, "IMAP4rev1 LITERAL+", func(server net.Conn) {
			r := bufio.NewReader(server)
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			// What comes after the APPEND line: its literal, as the
			// server reads it (100 bytes).
			buf := make([]byte, 100)
			n, _ := io.ReadAtLeast(r, buf, 11)
			got <- line + string(buf[:n])
			io.Copy(io.Discard, r)
		})
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		errc := make(chan error, 1)
		go func() {
			_, err := cl.Append(ctx, "INBOX", &remoteNOBody{}, 100, nil)
			errc <- err
		}()
		var err error
		select {
		case err = <-errc:
		case <-time.After(300 * time.Millisecond):
			// Still waiting: the session took the failed literal for a
			// refused one (and left the APPEND line and its 10 bytes in
			// its write buffer). A NOOP now flushes them, its own line
			// going into the literal.
			go cl.Noop(ctx)
			select {
			case s := <-got:
				t.Fatalf("the APPEND's body failed mid-literal, yet the session stayed in step: the server read %q", s)
			case <-time.After(500 * time.Millisecond):
				t.Fatal("the APPEND neither returned nor aborted the session")
			}
		}
		if !errors.Is(err, session.ErrWriteCut) || !errors.Is(err, session.ErrAborted) {
			t.Fatalf("Append: %v: want ErrWriteCut and ErrAborted (half a literal on the wire)", err)
		}
	})
}

// TestAppendManyOpenStatusErrorKeepsSessionInStep (found by review): the same through an
// AppendMany message's Open (copy's openSized returns the source FETCH's
// error, a *StatusError when the source answered NO): the first message
// went whole, the command line is unfinished, and send returns nil as for
// a refused literal. AppendMany waits for an answer the server cannot
// give, with the session taken for in step; it should fail at once with
// ErrWriteCut and ErrAborted. The defaults.
func TestAppendManyOpenStatusErrorKeepsSessionInStep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cl := serveClient(t, "IMAP4rev1 MULTIAPPEND LITERAL+", okLiteralServer)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		msgs := []commands.AppendMessage{
			{R: strings.NewReader("Subject: a\r\n\r\na\r\n"), Size: 17},
			{Open: func() (io.Reader, int64, error) {
				return nil, 0, fmt.Errorf("source: %w", &session.StatusError{Command: "UID FETCH", Status: &codec.Status{Kind: codec.StatusNO, Text: codec.Bytes("no")}})
			}},
		}
		errc := make(chan error, 1)
		go func() { _, err := cl.AppendMany(ctx, "INBOX", msgs); errc <- err }()
		select {
		case err := <-errc:
			if !errors.Is(err, session.ErrWriteCut) || !errors.Is(err, session.ErrAborted) {
				t.Fatalf("AppendMany: %v: want ErrWriteCut and ErrAborted (the command line left unfinished)", err)
			}
		case <-time.After(500 * time.Millisecond):
			t.Fatal("AppendMany, its command line unfinished, waits for an answer: the session took it for a refused literal")
		}
	})
}

// canceledBody gives 10 bytes, then fails with an error wrapping
// context.Canceled (a reader over another session whose context ended).
type canceledBody struct{ n int }

func (b *canceledBody) Read(p []byte) (int, error) {
	if b.n == 0 {
		b.n = copy(p, "Subject: x")
		return b.n, nil
	}
	return 0, fmt.Errorf("source: %w", context.Canceled)
}

// TestAppendCutOtherCommandNotCanceled: as TestAppendCutOtherCommandNotWriteCut,
// the body's error wrapping context.Canceled: the NOOP written whole
// before, whose context did not end, must not match context.Canceled (a
// caller would take it for given up) nor ErrWriteCut; the APPEND's own
// error keeps its body error's chain and matches ErrWriteCut. The
// defaults.
func TestAppendCutOtherCommandNotCanceled(t *testing.T) {
	gotNoop := make(chan struct{})
	cl := serveClient(t, "IMAP4rev1 LITERAL+", noopWatchServer(gotNoop))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	noopErr := make(chan error, 1)
	go func() { noopErr <- cl.Noop(ctx) }()
	select {
	case <-gotNoop:
	case <-ctx.Done():
		t.Fatal("NOOP never reached the server")
	}
	_, err := cl.Append(context.Background(), "INBOX", &canceledBody{}, 100, nil)
	if !errors.Is(err, session.ErrWriteCut) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Append: %v, want ErrWriteCut and its body's context.Canceled", err)
	}
	nerr := <-noopErr
	if nerr == nil || !errors.Is(nerr, session.ErrAborted) {
		t.Fatalf("NOOP: %v, want ErrAborted", nerr)
	}
	if errors.Is(nerr, context.Canceled) || errors.Is(nerr, session.ErrWriteCut) {
		t.Fatalf("the NOOP, written whole before the APPEND, matches the APPEND body's context.Canceled or ErrWriteCut: %v", nerr)
	}
	if !strings.Contains(nerr.Error(), "source: context canceled") {
		t.Fatalf("NOOP: %v: the cause's text is lost", nerr)
	}
}

// TestAppendManyFirstOpenError: an error of the first message's
// Open (AppendMany's own checks, ErrTooBig against APPENDLIMIT, or the
// caller's Open failing), which comes before any byte of the command is
// written, leaves the command not sent: the error matches
// session.ErrNotSent and the Open's error, not ErrAborted; the server
// never sees an APPEND, and a NOOP after it runs. It used to abort the
// session (ErrWriteCut), the command's start ("A1 APPEND INBOX ") being in
// the write buffer when the encoder came to the Open. Under both a
// context that cannot end (Open called on the writer's goroutine) and one
// that can (Open on its own). A later message's Open error still aborts
// the session (Second): the command is half on the wire. The library's
// defaults (the server's APPENDLIMIT=10 is its own). So does the first
// message's when the mailbox name goes as a synchronizing literal
// (SyncMailbox: a name of 1100 bytes, past a quoted string's 1024, to a
// server without LITERAL+): the command waits for the "+" before the Open
// is called (AppendMessage.Open's doc says so).
func TestAppendManyFirstOpenError(t *testing.T) {
	errOpen := errors.New("the message cannot be opened")
	for _, tc := range []struct {
		name   string
		second bool // a message before the one opened
		sync   bool // the mailbox name goes as a synchronizing literal
		open   func() (io.Reader, int64, error)
		want   error
	}{
		{"Error", false, false, func() (io.Reader, int64, error) { return nil, 0, errOpen }, errOpen},
		{"TooBig", false, false, func() (io.Reader, int64, error) { return strings.NewReader("0123456789ab"), 12, nil }, commands.ErrTooBig},
		{"Negative", false, false, func() (io.Reader, int64, error) { return strings.NewReader(""), -1, nil }, nil},
		{"Second", true, false, func() (io.Reader, int64, error) { return nil, 0, errOpen }, errOpen},
		{"SyncMailbox", false, true, func() (io.Reader, int64, error) { return nil, 0, errOpen }, errOpen},
	} {
		for _, cancelable := range []bool{false, true} {
			name := tc.name + map[bool]string{false: "/Background", true: "/Cancelable"}[cancelable]
			t.Run(name, func(t *testing.T) {
				appendFirstOpenError(t, tc.second, tc.sync, cancelable, tc.open, tc.want)
			})
		}
	}
}

func appendFirstOpenError(t *testing.T, second, sync, cancelable bool, open func() (io.Reader, int64, error), want error) {
	plus := " LITERAL+"
	if sync {
		plus = ""
	}
	var sawAppend atomic.Bool
	client, server, served := appendManyServer("IMAP4rev1 MULTIAPPEND"+plus+" APPENDLIMIT=10", true, &sawAppend)
	t.Cleanup(func() { client.Close(); server.Close(); <-served })
	s, err := session.Open(context.Background(), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cl := commands.New(s)
	ctx := context.Background()
	if cancelable {
		c, cancel := context.WithCancel(ctx)
		defer cancel()
		ctx = c
	}
	msgs := []commands.AppendMessage{{Open: open}}
	if second {
		msgs = append([]commands.AppendMessage{{R: strings.NewReader("first"), Size: 5}}, msgs...)
	}
	mailbox := "INBOX"
	if sync {
		mailbox = strings.Repeat("m", 1100)
	}
	_, err = cl.AppendMany(ctx, mailbox, msgs)
	if want != nil && !errors.Is(err, want) {
		t.Fatalf("AppendMany: %v; want the Open's error (%v)", err, want)
	}
	if second || sync {
		if !errors.Is(err, session.ErrWriteCut) || errors.Is(err, session.ErrNotSent) {
			t.Fatalf("AppendMany: %v; want the session aborted, the command cut", err)
		}
		return
	}
	if !errors.Is(err, session.ErrNotSent) || errors.Is(err, session.ErrAborted) {
		t.Fatalf("AppendMany: %v; want not sent, the session kept", err)
	}
	if err := cl.Noop(context.Background()); err != nil {
		t.Fatalf("NOOP after the APPEND not sent: %v", err)
	}
	if sawAppend.Load() || s.Err() != nil {
		t.Fatalf("the server saw the APPEND (%v), or the session ended: %v", sawAppend.Load(), s.Err())
	}
}

// TestAppendManyOpenBlockedCancel: AppendMany's message opened by
// an Open that blocks (until its channel is closed) returns when its
// context is cancelled, with an error matching context.Canceled. The
// second message's Open (Second: the first went out whole before it) so
// aborts the session, as a body's Read whose context ends does
// (ctxbody.go), which wakes a NOOP waiting behind it with an *AbortError
// that does not match context.Canceled. The first message's (First), whose
// turn comes before any byte of the command is written, leaves the command
// not sent (ErrNotSent): the server never sees an APPEND, the session goes
// on and the NOOP waiting behind it runs. Once the Open returns, no
// goroutine is left (leakcheck). Open ran on the session's writer
// goroutine: AppendMany waited in it for ever, the NOOP with it. The
// library's defaults.
func TestAppendManyOpenBlockedCancel(t *testing.T) {
	for _, second := range []bool{false, true} {
		name := map[bool]string{false: "First", true: "Second"}[second]
		t.Run(name, func(t *testing.T) { appendOpenBlocked(t, second) })
	}
}

func appendOpenBlocked(t *testing.T, second bool) {
	check := leakcheck.Start()
	var sawAppend atomic.Bool
	client, _, served := appendManyServer("IMAP4rev1 MULTIAPPEND LITERAL+", false, &sawAppend)
	s, err := session.Open(context.Background(), client, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl := commands.New(s)
	block := make(chan struct{})
	opening := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	msgs := []commands.AppendMessage{{Open: func() (io.Reader, int64, error) {
		close(opening)
		<-block
		return strings.NewReader("never read"), 10, nil
	}}}
	if second {
		msgs = append([]commands.AppendMessage{{R: strings.NewReader("first"), Size: 5}}, msgs...)
	}
	appended := make(chan error, 1)
	go func() {
		_, err := cl.AppendMany(ctx, "INBOX", msgs)
		appended <- err
	}()
	guard := time.NewTimer(10 * time.Second) // a hang guard, not a measure
	defer guard.Stop()
	select {
	case <-opening:
	case err := <-appended:
		t.Fatalf("AppendMany returned before opening its message: %v", err)
	case <-guard.C:
		t.Fatal("the message was not opened")
	}
	nooped := make(chan error, 1)
	go func() { nooped <- cl.Noop(context.Background()) }()
	cancel()
	select {
	case err := <-appended:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("AppendMany: %v", err)
		}
		if second && !errors.Is(err, session.ErrAborted) {
			t.Fatalf("AppendMany: %v; want the session aborted", err)
		}
		if !second && (!errors.Is(err, session.ErrNotSent) || errors.Is(err, session.ErrAborted)) {
			t.Fatalf("AppendMany: %v; want not sent", err)
		}
	case <-guard.C:
		close(block)
		t.Fatal("AppendMany still blocked in its message's Open 10 s after its context was cancelled")
	}
	select {
	case err := <-nooped:
		if second && (!errors.Is(err, session.ErrAborted) || errors.Is(err, context.Canceled)) {
			t.Fatalf("NOOP: %v", err)
		}
		if !second && err != nil {
			t.Fatalf("NOOP after the APPEND not sent: %v", err)
		}
	case <-guard.C:
		t.Fatal("NOOP still waiting behind the cancelled AppendMany")
	}
	if !second {
		if sawAppend.Load() || s.Err() != nil {
			t.Fatalf("the server saw the APPEND (%v), or the session ended: %v", sawAppend.Load(), s.Err())
		}
	}
	s.Close()
	client.Close()
	<-served
	if n := openerGoroutines(check, 0); n != 1 {
		t.Errorf("%d goroutines in the blocked Open; want 1", n)
	}
	close(block) // the Open returns: its goroutine goes
	if n := openerGoroutines(check, leakcheck.Wait); n != 0 {
		t.Fatalf("%d goroutines left in an Open once it returned", n)
	}
}

// openerGoroutines counts the goroutines running a Part.Open (whose stacks
// show session.runOpen) that c did not see at its start, waiting up to wait
// for none to be left. Only those: tests running in parallel start others
// (and child processes).
func openerGoroutines(c *leakcheck.Checker, wait time.Duration) int {
	return len(c.Left(wait, "session.runOpen"))
}

// BenchmarkAppendFile64MiB appends a 64 MiB *os.File over
// transport.Pipe to a server that discards it, with context.Background()
// (the body read on the writer's goroutine) and with a context that can
// end (the body pumped through a goroutine of its own, ctxbody.go): the
// cost of that pump for a regular file. Binary: AppendOptions.Binary with
// BINARY, so that the *os.File itself reaches the session (otherwise
// commands wraps it in its NUL guard, which the session cannot tell from
// a reader that may block).
func BenchmarkAppendFile64MiB(b *testing.B) {
	const size = 64 << 20
	path := filepath.Join(b.TempDir(), "msg")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(f, io.LimitReader(patternReader{}, size)); err != nil {
		b.Fatal(err)
	}
	f.Close()
	c := pipeClient(b, "IMAP4rev1 LITERAL+ BINARY", appendDiscardServer)
	for _, bc := range []struct {
		name   string
		cancel bool
		binary bool
	}{{"Background", false, false}, {"Cancelable", true, false}, {"BinaryBackground", false, true}, {"BinaryCancelable", true, true}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			if bc.cancel {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer cancel()
			}
			var opts *commands.AppendOptions
			if bc.binary {
				opts = &commands.AppendOptions{Binary: true}
			}
			b.SetBytes(size)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				res, err := c.Append(ctx, "INBOX", f, size, opts)
				f.Close()
				if err != nil || res.UID != 1 {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestAppendUIDStaleCaughtUTF8NameLikeUTF7: with UTF8=ACCEPT enabled a
// mailbox name is sent and listed as it is: "a&AOk-" is that name, not
// "aé". The session keeps the selected mailbox's name as the Client gave
// it for routing (decoded leniently, as it decodes the names of
// responses), and the APPENDUID check compared that ("aé") with the
// caller's name ("a&AOk-"): an APPEND to the selected "a&AOk-" answered
// with an APPENDUID of another UIDVALIDITY (9; the mailbox's is 1) was
// not taken for the selected mailbox's, and the stale UID was returned.
// Defaults.
func TestAppendUIDStaleCaughtUTF8NameLikeUTF7(t *testing.T) {
	fs := appendUIDServer()
	fs.caps += " ENABLE UTF8=ACCEPT"
	fs.on["ENABLE"] = func(hc *hostile.Conn, cmd *hostile.Command) error {
		return hc.Lines("* ENABLED UTF8=ACCEPT", cmd.Tag+" OK done")
	}
	c := hostileClient(t, fs.serve)
	ctx, cancel := context.WithTimeout(context.Background(), hangBound)
	defer cancel()
	if _, err := c.Enable(ctx, "UTF8=ACCEPT"); err != nil {
		t.Fatal(err)
	}
	const name = "a&AOk-"
	if st, err := c.Select(ctx, name, nil); err != nil || st.UIDValidity != 1 {
		t.Fatalf("SELECT %s: %v, %+v", name, err, st)
	}
	ar, err := c.Append(ctx, name, strings.NewReader("x\r\n"), 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *ar != (commands.AppendResult{}) {
		t.Errorf("UTF8=ACCEPT, selected %q (UIDVALIDITY 1), APPEND to it answered APPENDUID 9 1: result %+v; want the stale APPENDUID dropped", name, ar)
	}
}
