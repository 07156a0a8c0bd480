package commands_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/hostile"
)

// TestReview43LModSeqNotSent: RFC 7162 makes a mod-sequence a positive
// 63-bit number. A server's [HIGHESTMODSEQ 18446744073709551615] was taken
// (MailboxState.HighestModSeq), and what the client was given it sent back:
// SELECT (QRESYNC (1 18446744073709551615)), FETCH (CHANGEDSINCE ...),
// STORE (UNCHANGEDSINCE ...) and SEARCH MODSEQ carried any 64-bit value,
// a command the grammar has no room for. The codec now refuses such a
// HIGHESTMODSEQ (the code is text: no HighestModSeq), and the commands
// refuse to send one past 2^63-1 (ErrModSeq, nothing sent); 2^63-1 goes.
func TestReview43LModSeqNotSent(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	c := hostileClient(t, fakeServer{caps: "IMAP4rev1 ENABLE CONDSTORE QRESYNC UIDPLUS", each: func(cmd *hostile.Command) {
		mu.Lock()
		sent = append(sent, cmd.Name+" "+cmd.Args)
		mu.Unlock()
	}, on: handlers{
		"ENABLE": answer("* ENABLED QRESYNC"),
		"SELECT": answer("* 3 EXISTS", "* OK [UIDVALIDITY 1] x", "* OK [HIGHESTMODSEQ 18446744073709551615] x"),
	}}.serve)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Enable(ctx, "QRESYNC"); err != nil {
		t.Fatal(err)
	}
	st, err := c.Select(ctx, "INBOX", nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.HighestModSeq != 0 {
		t.Errorf("Select: HighestModSeq %d from [HIGHESTMODSEQ 18446744073709551615]; want 0 (none readable)", st.HighestModSeq)
	}
	if v, ok := c.Session().HighestModSeq(); ok {
		t.Errorf("Session.HighestModSeq: %d, true; want none", v)
	}
	const past = 1 << 63
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, commands.ErrModSeq) {
			t.Errorf("%s of 2^63: %v; want an error wrapping ErrModSeq", what, err)
		}
	}
	_, err = c.Select(ctx, "INBOX", &commands.SelectOptions{QResync: &commands.QResync{UIDValidity: 1, ModSeq: past}})
	check("Select QResync.ModSeq", err)
	for _, err = range c.Fetch(ctx, commands.UIDRange(1, 0), &commands.FetchItems{Flags: true, ChangedSince: past}) {
		break
	}
	check("Fetch ChangedSince", err)
	_, err = c.Store(ctx, commands.UIDs(1), commands.AddFlags, []string{`\Seen`}, &commands.StoreOptions{UnchangedSince: past})
	check("Store UnchangedSince", err)
	_, err = c.Search(ctx, &commands.Criteria{ModSeq: past}, nil)
	check("Search ModSeq", err)
	_, err = c.Search(ctx, &commands.Criteria{Not: []commands.Criteria{{ModSeq: past}}}, nil)
	check("Search Not ModSeq", err)
	// The largest mod-sequence goes.
	err = nil
	for _, err = range c.Fetch(ctx, commands.UIDRange(1, 0), &commands.FetchItems{Flags: true, ChangedSince: past - 1}) {
	}
	if err != nil {
		t.Fatalf("Fetch ChangedSince 2^63-1: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	var odd []string
	for _, s := range sent {
		if strings.Contains(s, "922337203685477580") && !strings.Contains(s, "CHANGEDSINCE 9223372036854775807") ||
			strings.Contains(s, "18446744073709551615") {
			odd = append(odd, s)
		}
	}
	if len(odd) > 0 {
		t.Errorf("sent %q; want no mod-sequence past 2^63-1", odd)
	}
	if last := sent[len(sent)-1]; !strings.Contains(last, "CHANGEDSINCE 9223372036854775807") {
		t.Errorf("the last command: %q; want the FETCH with CHANGEDSINCE 2^63-1", last)
	}
}
