package commands_test

// Reproducers of the caller-input audit: what the typed client sends for
// the arguments its caller passes. A small fake server (zzServer) answers
// every command OK and records the bytes of each command, literals
// included, so that a test can look at exactly what went on the wire.

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
	"github.com/imapkit/imapkit/wire"
)

// zzServer is a fake IMAP server that records every command the client
// sends (with its literals) and answers it OK.
type zzServer struct {
	mu   sync.Mutex
	cmds []string
	// extra, when set, gives untagged lines to send before the tagged OK
	// of a command (its bytes as sent, tag first).
	extra func(cmd string) []string
}

// sent returns the commands received so far.
func (s *zzServer) sent() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.cmds...)
}

// literalSize returns n of a line ending in a literal header {n}, {n+}
// or ~{n}, and whether it is synchronizing.
func literalSize(line string) (n int, sync, ok bool) {
	l := strings.TrimSuffix(line, "\r\n")
	if !strings.HasSuffix(l, "}") {
		return 0, false, false
	}
	i := strings.LastIndexByte(l, '{')
	if i < 0 {
		return 0, false, false
	}
	num := l[i+1 : len(l)-1]
	sync = true
	if strings.HasSuffix(num, "+") {
		num, sync = num[:len(num)-1], false
	}
	v, err := strconv.Atoi(num)
	if err != nil {
		return 0, false, false
	}
	return v, sync, true
}

func (s *zzServer) serve(conn io.ReadWriteCloser, greeting string) {
	defer conn.Close()
	w := bufio.NewWriter(conn)
	r := bufio.NewReader(conn)
	w.WriteString(greeting + "\r\n")
	w.Flush()
	for {
		var cmd strings.Builder
		for {
			line, err := r.ReadString('\n')
			cmd.WriteString(line)
			if err != nil {
				return
			}
			n, sync, ok := literalSize(line)
			if !ok {
				break
			}
			if sync {
				w.WriteString("+ go\r\n")
				w.Flush()
			}
			buf := make([]byte, n)
			if _, err := io.ReadFull(r, buf); err != nil {
				return
			}
			cmd.Write(buf)
		}
		c := cmd.String()
		s.mu.Lock()
		s.cmds = append(s.cmds, c)
		s.mu.Unlock()
		tag, rest, _ := strings.Cut(strings.TrimSuffix(c, "\r\n"), " ")
		name := strings.ToUpper(rest)
		if i := strings.IndexByte(name, ' '); i >= 0 {
			name = name[:i]
		}
		switch name {
		case "AUTHENTICATE":
			w.WriteString("+ \r\n")
			w.Flush()
			if _, err := r.ReadString('\n'); err != nil {
				return
			}
		case "IDLE":
			w.WriteString("+ idling\r\n")
			w.Flush()
			if _, err := r.ReadString('\n'); err != nil {
				return
			}
		case "LOGOUT":
			w.WriteString("* BYE bye\r\n" + tag + " OK bye\r\n")
			w.Flush()
			return
		case "SELECT", "EXAMINE":
			w.WriteString("* 3 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* OK [UIDNEXT 4] x\r\n")
		}
		if s.extra != nil {
			for _, l := range s.extra(c) {
				w.WriteString(l + "\r\n")
			}
		}
		w.WriteString(tag + " OK done\r\n")
		w.Flush()
	}
}

// zzClient opens a Client on a fake server whose greeting announces caps;
// preauth makes it a PREAUTH greeting (state AUTH).
func zzClient(t *testing.T, caps string, preauth bool) (*commands.Client, *zzServer, context.Context) {
	t.Helper()
	client, server := transport.Pipe()
	srv := &zzServer{}
	kind := "OK"
	if preauth {
		kind = "PREAUTH"
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.serve(server, "* "+kind+" [CAPABILITY IMAP4rev1 "+caps+"] ready")
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	c, err := commands.Open(ctx, client, &auth.Options{Session: &session.Options{TagPrefix: "A"}})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		c.Session().Close()
		server.Close()
		<-done
	})
	return c, srv, ctx
}

// zzSelected is zzClient with INBOX selected.
func zzSelected(t *testing.T, caps string) (*commands.Client, *zzServer, context.Context) {
	t.Helper()
	c, srv, ctx := zzClient(t, caps, true)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	return c, srv, ctx
}

// zzSentSince returns the commands the server received after the first n.
func (s *zzServer) since(n int) []string {
	l := s.sent()
	if n > len(l) {
		return nil
	}
	return l[n:]
}

// zzRefused fails the test unless the call returned an error and sent
// nothing: the right answer to an argument that cannot be sent as asked.
func zzRefused(t *testing.T, srv *zzServer, what string, call func() error) {
	t.Helper()
	n := len(srv.sent())
	err := call()
	sent := srv.since(n)
	if err == nil {
		t.Errorf("%s: no error; sent %q", what, sent)
	} else if len(sent) > 0 {
		t.Errorf("%s: error %v, but sent %q", what, err, sent)
	}
}

// TestReview38InputStoreZeroOpReplacesFlags: StoreOp's constants start at 1
// (AddFlags = iota + 1), so the zero StoreOp, or any value past
// ReplaceFlags, is no operation; Store sends it as FLAGS, which REPLACES
// every flag of the messages: Store(set, 0, [\Seen]) wipes \Flagged,
// \Answered, $Junk... of every message in the set without an error.
func TestReview38InputStoreZeroOpReplacesFlags(t *testing.T) {
	c, srv, ctx := zzSelected(t, "UIDPLUS")
	for _, op := range []commands.StoreOp{0, 4, 200} {
		zzRefused(t, srv, "Store(op "+strconv.Itoa(int(op))+")", func() error {
			_, err := c.Store(ctx, commands.UIDs(1), op, []string{commands.FlagSeen}, nil)
			return err
		})
	}
}

// TestReview38InputMailboxInvalidUTF8: without UTF8=ACCEPT, a mailbox name
// that is not valid UTF-8 has each bad byte replaced by U+FFFD
// (codec.EncodeMailbox) and is sent without an error: Delete("Old\xff")
// deletes the mailbox "Old\uFFFD", another mailbox than the one asked
// for, and Create/Rename make a name the caller never gave.
func TestReview38InputMailboxInvalidUTF8(t *testing.T) {
	c, srv, ctx := zzClient(t, "", true)
	zzRefused(t, srv, `Delete("Old\xff")`, func() error { return c.Delete(ctx, "Old\xff") })
	zzRefused(t, srv, `Create("a\xc3")`, func() error { return c.Create(ctx, "a\xc3", nil) })
	zzRefused(t, srv, `Rename("a", "b\xfe")`, func() error { return c.Rename(ctx, "a", "b\xfe") })
	// What goes for "Old\xff" is what names "Old\uFFFD".
	n := len(srv.sent())
	c.Delete(ctx, "Old\xff")
	c.Delete(ctx, "Old\uFFFD")
	if l := srv.since(n); len(l) == 2 && l[0][3:] == l[1][3:] {
		t.Errorf("Delete(%q) and Delete(%q) send the same name: %q", "Old\xff", "Old\uFFFD", l)
	}
}

// TestReview38InputMailboxNUL: a NUL in a mailbox name is refused with
// wire.ErrNUL once UTF8=ACCEPT is on, but before (the default) it went
// out encoded as "&AAA-": the same call was an error or not depending on
// the session's mode. Now refused in both (ErrMailboxName and
// wire.ErrNUL). Other control characters stay allowed: modified UTF-7
// represents them (RFC 3501 5.1.3), and a mailbox another client made
// with one must stay reachable ("a\r\nb" goes as "a&AA0ACg-b").
func TestReview38InputMailboxNUL(t *testing.T) {
	c, srv, ctx := zzClient(t, "", true)
	zzRefused(t, srv, `Create("a\x00b")`, func() error { return c.Create(ctx, "a\x00b", nil) })
	if err := c.Create(ctx, "a\x00b", nil); !errors.Is(err, commands.ErrMailboxName) || !errors.Is(err, wire.ErrNUL) {
		t.Errorf("Create(NUL): %v; want ErrMailboxName and wire.ErrNUL", err)
	}
	if err := c.Create(ctx, "a\r\nb", nil); err != nil {
		t.Errorf("Create(CR LF): %v", err)
	}
	if sent := srv.sent(); !strings.HasSuffix(sent[len(sent)-1], "CREATE a&AA0ACg-b\r\n") {
		t.Errorf("sent %q", sent)
	}
}

// TestReview38InputAppendDateOutOfRange: an INTERNALDATE's year is 4DIGIT (RFC
// 3501 and 9051, date-year) and its zone "+"/"-" 4DIGIT. AppendOptions.Date
// in year 10000 or before year 0 goes out as "01-Jan-10000 ..." or
// "01-Jan--1 ..." (codec.AppendInternalDate says: "not valid IMAP"), and
// a zone offset of 100 hours or more is written modulo 100 hours: +100:01
// goes as "+0001", another instant, without an error.
func TestReview38InputAppendDateOutOfRange(t *testing.T) {
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

// TestReview38InputSearchDateOutOfRange: a search date is date-day "-"
// date-month "-" date-year, year 4DIGIT. Criteria.Since in year 10000
// goes as the atom "1-Jan-10000", in year -1 as "1-Jan--0001", without an
// error (Go's Format writes what it can; nothing checks the year).
func TestReview38InputSearchDateOutOfRange(t *testing.T) {
	c, srv, ctx := zzSelected(t, "")
	for _, d := range []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		zzRefused(t, srv, "Search(Since "+d.String()+")", func() error {
			_, err := c.Search(ctx, &commands.Criteria{Since: d}, nil)
			return err
		})
		zzRefused(t, srv, "Search(SentBefore "+d.String()+")", func() error {
			_, err := c.Search(ctx, &commands.Criteria{SentBefore: d}, nil)
			return err
		})
	}
}

// TestReview38InputAtomBackslash: wire.Encoder.Atom lets a leading backslash
// through (for flags), and every other atom argument goes through it
// too: Enable(`\Foo`) sends "ENABLE \Foo", Criteria.EmailID `\x` sends
// "EMAILID \x", a SortKey `\date` "(\DATE)", a SetQuota resource `\x`
// "(\X 1)": none of them is an atom (RFC 3501: '\' is an atom-special;
// RFC 5161 capability, RFC 8474 objectid, RFC 5256 sort-key, RFC 9208
// resource-name), and no error is returned.
func TestReview38InputAtomBackslash(t *testing.T) {
	c, srv, ctx := zzClient(t, "ENABLE QUOTA", true)
	zzRefused(t, srv, "Enable(`\\Foo`)", func() error { _, err := c.Enable(ctx, `\Foo`); return err })
	zzRefused(t, srv, "SetQuota(`\\x`)", func() error {
		_, err := c.SetQuota(ctx, "", map[string]uint64{`\x`: 1})
		return err
	})
	c2, srv2, ctx2 := zzSelected(t, "SORT")
	zzRefused(t, srv2, "Search(EmailID `\\x`)", func() error {
		_, err := c2.Search(ctx2, &commands.Criteria{EmailID: `\x`}, nil)
		return err
	})
	zzRefused(t, srv2, "Sort(Key `\\date`)", func() error {
		_, err := c2.Sort(ctx2, []commands.SortKey{{Key: `\date`}}, nil, nil)
		return err
	})
}

// TestReview38InputSearchNegativeSize: Criteria.Smaller is "0 for no bound";
// a negative Smaller (no message is smaller than -1 bytes) is dropped
// like 0 and the search sent as ALL: it matches every message where the
// caller asked for none, and no error says so. (A negative Larger is
// dropped too, harmlessly.)
func TestReview38InputSearchNegativeSize(t *testing.T) {
	c, srv, ctx := zzSelected(t, "")
	zzRefused(t, srv, "Search(Smaller -1)", func() error {
		_, err := c.Search(ctx, &commands.Criteria{Smaller: -1}, nil)
		return err
	})
}

// TestReview38InputSearchWithinSubSecond: WITHIN's YOUNGER and OLDER take an
// nz-number of seconds (RFC 5032). A positive Younger or Older below one
// second is truncated to 0 and sent as "YOUNGER 0", which is not valid
// syntax, and is not what was asked (Dovecot would match nothing or
// refuse); no error.
func TestReview38InputSearchWithinSubSecond(t *testing.T) {
	c, srv, ctx := zzSelected(t, "WITHIN")
	zzRefused(t, srv, "Search(Younger 500ms)", func() error {
		_, err := c.Search(ctx, &commands.Criteria{Younger: 500 * time.Millisecond}, nil)
		return err
	})
}

// TestReview38InputEmptyLists: arguments whose grammar needs at least one
// element go out as an empty "()" (or nothing) when the caller passes
// none, or only bits no name exists for: ENABLE with no capability (RFC
// 5161: 1*(SP capability)), SETMETADATA "()" and GETMETADATA "()" (RFC
// 5464: one entry at least), STATUS "()" for a StatusItem of unknown
// bits (RFC 3501: status-att *(SP status-att)), CATENATE "()" (RFC 4469:
// one cat-part at least), GETANNOTATION's attributes "()" and NOTIFY's
// events "()" for unknown NotifyEvent bits (RFC 5465). Each is a
// syntax error the server answers BAD, where a typed error before
// sending was possible (Notify and AppendMany check their own counts).
func TestReview38InputEmptyLists(t *testing.T) {
	c, srv, ctx := zzClient(t, "ENABLE METADATA CATENATE ANNOTATEMORE NOTIFY", true)
	zzRefused(t, srv, "Enable()", func() error { _, err := c.Enable(ctx); return err })
	zzRefused(t, srv, "SetMetadata(nil)", func() error { return c.SetMetadata(ctx, "INBOX", nil) })
	zzRefused(t, srv, "GetMetadata(nil)", func() error { _, _, err := c.GetMetadata(ctx, "INBOX", nil, nil); return err })
	zzRefused(t, srv, "Status(1<<14)", func() error { _, err := c.Status(ctx, "INBOX", 1<<14); return err })
	zzRefused(t, srv, "AppendCatenate(nil)", func() error { _, err := c.AppendCatenate(ctx, "INBOX", nil, nil); return err })
	zzRefused(t, srv, "GetAnnotation(no attrs)", func() error { _, err := c.GetAnnotation(ctx, "INBOX", "/comment"); return err })
	zzRefused(t, srv, "Notify(Events 1<<12)", func() error {
		_, err := c.Notify(ctx, nil, commands.NotifyGroup{Filter: commands.NotifyPersonal, Events: 1 << 12})
		return err
	})
}

// TestReview38InputOutOfRangeNumbers: numbers the grammar bounds go out
// unchecked. QResync{UIDValidity: 0, ModSeq: 0} sends "QRESYNC (0 0)"
// (RFC 7162: uidvalidity is nz-number, mod-sequence-value 1 to 2^63-1);
// FetchItems.Vanished without ChangedSince sends "CHANGEDSINCE 0
// VANISHED" (mod-sequence-value again; Vanished's doc says "with
// ChangedSince"); SetQuota's limit of 2^64-1 goes as is (RFC 9208:
// number64, at most 2^63-1); a FetchSection part of 2^40 goes as
// "BODY.PEEK[1099511627776]" (nz-number: 32 bits); MetadataOptions.Depth
// 5 goes as "DEPTH 5" (RFC 5464: "0" / "1" / "infinity"; its doc says
// 0, 1 or -1, and -5 is taken as infinity).
func TestReview38InputOutOfRangeNumbers(t *testing.T) {
	c, srv, ctx := zzClient(t, "ENABLE QRESYNC CONDSTORE QUOTA METADATA", true)
	srv.extra = func(cmd string) []string {
		if strings.Contains(cmd, " ENABLE ") {
			return []string{"* ENABLED QRESYNC"}
		}
		return nil
	}
	if _, err := c.Enable(ctx, "QRESYNC"); err != nil {
		t.Fatal(err)
	}
	zzRefused(t, srv, "SetQuota(2^64-1)", func() error {
		_, err := c.SetQuota(ctx, "", map[string]uint64{"STORAGE": 1<<64 - 1})
		return err
	})
	zzRefused(t, srv, "GetMetadata(Depth 5)", func() error {
		_, _, err := c.GetMetadata(ctx, "INBOX", []string{"/private/comment"}, &commands.MetadataOptions{Depth: 5})
		return err
	})
	zzRefused(t, srv, "Select(QResync 0 0)", func() error {
		_, err := c.Select(ctx, "INBOX", &commands.SelectOptions{QResync: &commands.QResync{}})
		return err
	})
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	zzRefused(t, srv, "Fetch(Vanished, ChangedSince 0)", func() error {
		_, err := c.FetchAll(ctx, commands.UIDs(1), &commands.FetchItems{Flags: true, Vanished: true})
		return err
	})
	if strconv.IntSize == 64 {
		huge := int(^uint(0) >> 1) // past 2^32-1 where int has 64 bits (compiles on 386 too)
		zzRefused(t, srv, "Fetch(Part MaxInt)", func() error {
			_, err := c.FetchAll(ctx, commands.UIDs(1), &commands.FetchItems{Sections: []commands.FetchSection{{Part: []int{huge}}}})
			return err
		})
	}
}

// TestReview38InputUnicodeCaseFolding: names are upper-cased with
// strings.ToUpper, which maps some non-ASCII letters to ASCII ones
// (U+017F LATIN SMALL LETTER LONG S to 'S', U+0131 DOTLESS I to 'I')
// before the atom check: a SortKey "ſubject" goes as SUBJECT, a
// mechanism "plaın" as AUTHENTICATE PLAIN, a SetQuota resource "ſtorage"
// as STORAGE (then twice, beside "storage"), an invalid name silently
// turned into another, valid one.
func TestReview38InputUnicodeCaseFolding(t *testing.T) {
	c, srv, ctx := zzSelected(t, "SORT QUOTA")
	zzRefused(t, srv, `Sort(Key "ſubject")`, func() error {
		_, err := c.Sort(ctx, []commands.SortKey{{Key: "\u017fubject"}}, nil, nil)
		return err
	})
	zzRefused(t, srv, `SetQuota("ſtorage")`, func() error {
		_, err := c.SetQuota(ctx, "", map[string]uint64{"\u017ftorage": 1, "storage": 2})
		return err
	})
	c2, srv2, ctx2 := zzClient(t, "AUTH=PLAIN", false)
	zzRefused(t, srv2, `AuthenticateFunc("plaın")`, func() error {
		return c2.AuthenticateFunc(ctx2, "pla\u0131n", func([]byte) ([]byte, error) { return nil, nil })
	})
}

// TestReview38InputPartialZeroLength: Partial(set, section, start, 0) sets
// Count 0, which FetchSection reads as "no partial": it sends
// BODY.PEEK[] (start dropped), the server sends the whole section, and
// Partial reads none of it and returns it empty. A zero length (partial
// needs an nz-number) should be refused, or answered empty without
// fetching a message that may be many megabytes.
func TestReview38InputPartialZeroLength(t *testing.T) {
	c, srv, ctx := zzSelected(t, "")
	n := len(srv.sent())
	_, err := c.Partial(ctx, commands.UIDs(1), commands.TextSection, 100, 0)
	for _, cmd := range srv.since(n) {
		if strings.Contains(cmd, "FETCH") && !strings.Contains(cmd, "<") {
			t.Errorf("Partial(start 100, length 0): err %v; sent %q, the whole section", err, cmd)
		}
	}
}

// TestReview38InputIdleNilHandler: Idle with a nil onEvent is an error
// before anything is sent (it panicked at the first event).
func TestReview38InputIdleNilHandler(t *testing.T) {
	c, srv, ctx := zzClient(t, "IDLE", true)
	zzRefused(t, srv, "Idle(nil)", func() error { return c.Idle(ctx, nil, nil) })
}

// TestReview38InputSetQuotaDuplicateResource: resource names go
// upper-cased, so "storage" and "STORAGE" went as one resource twice,
// with two limits ("(STORAGE 1 STORAGE 2)"): refused before sending.
func TestReview38InputSetQuotaDuplicateResource(t *testing.T) {
	c, srv, ctx := zzClient(t, "QUOTA", true)
	zzRefused(t, srv, "SetQuota(storage, STORAGE)", func() error {
		_, err := c.SetQuota(ctx, "", map[string]uint64{"storage": 1, "STORAGE": 2})
		return err
	})
}
