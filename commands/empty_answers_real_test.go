package commands_test

import (
	"bytes"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
)

// emptyAnswers checks, on c with a mailbox selected, that the server
// answers a SEARCH, UID SEARCH, SORT and THREAD that match nothing with
// the empty untagged response their RFCs require ("* SEARCH", "* SORT",
// "* THREAD"), which Search, Sort and Thread now need (without it, a
// *MissingError), and that Sort, Thread and GetACL of the mailbox take
// the server's empty answers.
func emptyAnswers(t *testing.T, c *commands.Client, mailbox string) {
	t.Helper()
	ctx := dvCtx(t)
	const none = `SUBJECT "no-such-subject-4f2a"`
	for _, tc := range []struct {
		name, args string
		is         func(codec.Response) bool
	}{
		{"SEARCH", none, func(r codec.Response) bool { _, ok := r.(*codec.Search); return ok }},
		{"UID SEARCH", none, func(r codec.Response) bool { _, ok := r.(*codec.Search); return ok }},
		{"SORT", "(ARRIVAL) UTF-8 " + none, func(r codec.Response) bool { _, ok := r.(*codec.Sort); return ok }},
		{"THREAD", "REFERENCES UTF-8 " + none, func(r codec.Response) bool { _, ok := r.(*codec.Thread); return ok }},
	} {
		r, err := c.Xatom(ctx, tc.name, tc.args)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.name, tc.args, err)
		}
		found := false
		for _, d := range r.Data {
			found = found || tc.is(d)
		}
		if !found {
			t.Errorf("%s matching nothing answered %#v: no empty %s response", tc.name, r.Data, tc.name)
		}
	}
	crit := &commands.Criteria{Subject: []string{"no-such-subject-4f2a"}}
	if nums, err := c.Sort(ctx, []commands.SortKey{{Key: "ARRIVAL"}}, crit, nil); err != nil || len(nums) != 0 {
		t.Errorf("Sort matching nothing = %v, %v; want none, no error", nums, err)
	}
	if threads, err := c.Thread(ctx, "REFERENCES", crit, nil); err != nil || len(threads) != 0 {
		t.Errorf("Thread matching nothing = %v, %v; want none, no error", threads, err)
	}
	if _, err := c.GetACL(ctx, mailbox); err != nil {
		t.Errorf("GetACL(%s): %v", mailbox, err)
	}
}

// TestEmptyAnswersDovecot: Dovecot sends "* SEARCH", "* SORT" and
// "* THREAD" when nothing matches, and its echo of a HEADER.FIELDS list is
// taken as Partial's answer.
func TestEmptyAnswersDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	mb := dvMailbox(t, testserver.Alice, 3)
	if _, err := c.Select(dvCtx(t), mb, nil); err != nil {
		t.Fatal(err)
	}
	emptyAnswers(t, c, mb)
	partialFields(t, c, commands.SeqNums(1))
}

// TestEmptyAnswersCyrus: Cyrus does too.
func TestEmptyAnswersCyrus(t *testing.T) {
	t.Parallel() // waits on a Cyrus of its own
	_, c := cyAlice(t)
	if _, err := c.AppendBytes(dvCtx(t), "INBOX", []byte("Subject: one\r\n\r\nbody\r\n"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(dvCtx(t), "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	emptyAnswers(t, c, "INBOX")
	partialFields(t, c, commands.SeqNums(1))
}

// partialFields checks that Partial of HEADER.FIELDS, asked in mixed
// case and in an order the message's header has not, takes the server's
// echo of the field list (Partial compares the names: in any case and
// order).
func partialFields(t *testing.T, c *commands.Client, set commands.Set) {
	t.Helper()
	section := commands.FetchSection{Specifier: "HEADER.FIELDS", Fields: []string{"subject", "From"}}
	got, err := c.Partial(dvCtx(t), set, section, 0, 1000)
	if err != nil || !bytes.Contains(bytes.ToLower(got), []byte("subject:")) {
		t.Errorf("Partial(HEADER.FIELDS (subject From)) = %q, %v; want the Subject line", got, err)
	}
}
