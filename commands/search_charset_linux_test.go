//go:build linux

package commands_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// searchLatin1 searches for a string that is not valid UTF-8 (Latin-1
// "café", the minimal failing input of the random search property: the
// generator cut a UTF-8 rune in two) without SearchOptions.Charset. The
// Client labels the criteria CHARSET UTF-8 itself (SearchOptions.Charset:
// "UTF-8 when a string is not ASCII"), so it declares bytes UTF-8 that are
// not: the request must be refused before anything is sent, with a typed
// error, not sent as a false declaration for the server to answer BAD
// "Invalid search key" (Dovecot) or to match against something else.
func searchLatin1(t *testing.T, c *commands.Client, mb string) {
	ctx := dvCtx(t)
	if _, err := c.AppendBytes(ctx, mb, []byte("Subject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ncafé\r\n"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"caf\xe9", "\xf0\x9d\r\n\x84\x9e\\"} {
		res, err := c.Search(ctx, &commands.Criteria{Body: []string{s}}, nil)
		if err == nil {
			t.Errorf("Search(Body %q), not UTF-8, labelled CHARSET UTF-8 by the Client: no error, result %v", s, res.All)
			continue
		}
		if errors.Is(err, session.ErrBad) || errors.Is(err, session.ErrNo) {
			t.Errorf("Search(Body %q), not UTF-8: sent to the server as CHARSET UTF-8, which answered: %v", s, err)
		}
		if !errors.Is(err, commands.ErrSearchNotUTF8) {
			t.Errorf("Search(Body %q): %v, want commands.ErrSearchNotUTF8", s, err)
		}
	}
}

func TestSearchInvalidUTF8Dovecot(t *testing.T) {
	searchLatin1(t, dvClient(t, "alice", nil), dvMailbox(t, "alice", 0))
}

func TestSearchInvalidUTF8Cyrus(t *testing.T) {
	_, c := cyAlice(t)
	searchLatin1(t, c, "INBOX")
}

// TestSearchInvalidUTF8EveryKey: the check covers every string key,
// in Not and Or, and SORT and THREAD (which share the criteria); an
// explicit "UTF-8" is checked too, another charset passes the bytes on,
// and the connection is still usable after each refusal.
func TestSearchInvalidUTF8EveryKey(t *testing.T) {
	c := dvClient(t, "alice", nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, "alice", 0)
	if _, err := c.AppendBytes(ctx, mb, []byte("Subject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ncafé\r\n"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	bad := "caf\xe9"
	for name, cr := range map[string]*commands.Criteria{
		"From":         {From: []string{bad}},
		"Subject":      {Subject: []string{"ok", bad}},
		"Header name":  {Header: []commands.HeaderCriterion{{Name: bad}}},
		"Header value": {Header: []commands.HeaderCriterion{{Name: "X-A", Value: bad}}},
		"Not":          {Not: []commands.Criteria{{Text: []string{bad}}}},
		"Or":           {Or: [][2]commands.Criteria{{{Cc: []string{"a"}}, {Bcc: []string{bad}}}}},
	} {
		if _, err := c.Search(ctx, cr, nil); !errors.Is(err, commands.ErrSearchNotUTF8) {
			t.Errorf("Search(%s not UTF-8): %v, want ErrSearchNotUTF8", name, err)
		}
		if _, err := c.Search(ctx, cr, &commands.SearchOptions{Charset: "utf-8"}); !errors.Is(err, commands.ErrSearchNotUTF8) {
			t.Errorf("Search(%s not UTF-8, Charset utf-8): %v, want ErrSearchNotUTF8", name, err)
		}
		if _, err := c.Sort(ctx, []commands.SortKey{{Key: "ARRIVAL"}}, cr, nil); !errors.Is(err, commands.ErrSearchNotUTF8) {
			t.Errorf("Sort(%s not UTF-8): %v, want ErrSearchNotUTF8", name, err)
		}
		if _, err := c.Thread(ctx, "REFERENCES", cr, nil); !errors.Is(err, commands.ErrSearchNotUTF8) {
			t.Errorf("Thread(%s not UTF-8): %v, want ErrSearchNotUTF8", name, err)
		}
	}
	// Named as Latin-1, the same bytes are "café" and go as they are.
	res, err := c.Search(ctx, &commands.Criteria{Body: []string{bad}}, &commands.SearchOptions{Charset: "ISO-8859-1"})
	if err != nil {
		t.Fatalf("Search(Body Latin-1 café, Charset ISO-8859-1): %v", err)
	}
	if n, _ := res.All.Len(); n != 1 {
		t.Errorf("Search(Body Latin-1 café, Charset ISO-8859-1): %v, want the one message", res.All)
	}
	// Valid UTF-8 still finds it.
	res, err = c.Search(ctx, &commands.Criteria{Body: []string{"café"}}, nil)
	if err != nil {
		t.Fatalf("Search(Body café): %v", err)
	}
	if n, _ := res.All.Len(); n != 1 {
		t.Errorf("Search(Body café): %v, want the one message", res.All)
	}
}

// TestFlagErrorNamesBadChar: the random keyword property's
// refused non-ASCII keywords are refused with the right typed error
// (wire.ErrInvalidAtom), but its message named the wrong character:
// checkFlags (client.go) formatted the first bad byte, f[i], with %q, so
// a keyword "Wichtig-é" was said to hold 'Ã' (0xC3, the first byte of é's
// UTF-8 read as Latin-1), a character the user never wrote; for "日本" it
// said 'æ'. The message should name the character (é, U+00E9) or the byte
// (0xc3).
func TestFlagErrorNamesBadChar(t *testing.T) {
	c := dvClient(t, "alice", nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, "alice", 1)
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	for kw, bogus := range map[string]string{"Wichtig-é": "'Ã'", "日本": "'æ'"} {
		_, err := c.Store(ctx, commands.SeqNums(1), commands.AddFlags, []string{kw}, nil)
		if !errors.Is(err, wire.ErrInvalidAtom) {
			t.Fatalf("Store(%q): %v, want wire.ErrInvalidAtom", kw, err)
		}
		if strings.Contains(err.Error(), bogus) {
			t.Errorf("Store(%q): the error names a character the keyword does not hold: %v", kw, err)
		}
	}
	// The character itself, or the byte in hex when it is no character.
	for kw, want := range map[string]string{"Wichtig-é": "holds 'é'", "日本": "holds '日'", "caf\xe9": "holds 0xe9", "a b": "holds ' '"} {
		_, err := c.Store(ctx, commands.SeqNums(1), commands.AddFlags, []string{kw}, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Store(%q): %v, want it to say %s", kw, err, want)
		}
	}
}
