package commands_test

import (
	"net/mail"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestAddressStringLocalPartSpecials: Address.String is
// documented as the address "as in a header" and 9d5b75e/5fde386 made it
// safe to build a header from (a reply's To:). A sender's quoted local
// part that holds "<", ">" and "," reaches the envelope's mailbox
// unquoted, and String wrote it bare: the one address of From: became
// several in a header built from it, one of the sender's choosing.
func TestAddressStringLocalPartSpecials(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.Alice, 0)
	msg := "From: Bob <\"bob@example.org>, <mallory@evil.example>, <x\"@example.org>\r\nSubject: x\r\n\r\nhi\r\n"
	if _, err := c.Append(ctx, mb, strings.NewReader(msg), int64(len(msg)), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	ms, err := c.FetchAll(ctx, commands.SeqNums(1), &commands.FetchItems{Envelope: true})
	if err != nil || len(ms) != 1 || ms[0].Envelope == nil || len(ms[0].Envelope.From) != 1 {
		t.Fatalf("FETCH: %v %+v", err, ms)
	}
	a := ms[0].Envelope.From[0]
	s := a.String()
	hdr := "To: " + s
	// The header must still name one mailbox: the "<" of the address
	// proper must be the only one outside a quoted string.
	list, perr := mail.ParseAddressList(s)
	if perr != nil || len(list) != 1 {
		t.Errorf("net/mail reads it as %d addresses (%v, %v); ", len(list), list, perr)
		t.Errorf("From's one address (mailbox %q, host %q) prints as %q: a header built from it, %q, names mallory@evil.example as a second recipient", a.Mailbox, a.Host, s, hdr)
	} else if want := string(a.Mailbox) + "@" + string(a.Host); list[0].Address != want || list[0].Name != "Bob" {
		t.Errorf("%q: net/mail reads name %q address %q; want \"Bob\" and %q", s, list[0].Name, list[0].Address, want)
	}
}
