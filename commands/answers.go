package commands

import (
	"github.com/imapkit/imapkit/codec"
)

// ownMailbox returns the test that tells, among the responses of a command
// about the mailbox want (as sent), those that answer it, name giving the
// mailbox a response names (ok false for another kind). A response that
// names want exactly (codec.ExactMailbox) answers it, and then only those do: the
// others are other mailboxes' (unsolicited, or a hostile server's). When
// none does, codec.SameMailbox's looser match is taken, "INBOX" at the head
// of the name in any case: Dovecot answers GETMETADATA and MYRIGHTS of
// "inbox/x" with "INBOX/x", its own spelling. The Client does not know the
// server's delimiter, so that on a server whose delimiter is "/" an answer
// naming only "inbox.x" is still taken for "INBOX.x"'s.
func ownMailbox(data []codec.Response, want string, name func(codec.Response) ([]byte, bool)) func(codec.Response) bool {
	test := func(d codec.Response) bool {
		n, ok := name(d)
		return ok && codec.ExactMailbox(string(n), want)
	}
	for _, d := range data {
		if test(d) {
			return test
		}
	}
	return func(d codec.Response) bool {
		n, ok := name(d)
		return ok && codec.SameMailbox(string(n), want)
	}
}

// listedSame reports whether name, decoded, is the listed mailbox m
// (whose delimiter is known from its LIST response): equal, INBOX alone in
// any case, or, when m's name begins with INBOX and its delimiter, equal
// but for the case of that INBOX (the mailboxes under INBOX, as servers
// spell them). Unlike codec.SameMailbox, "INBOX." is no head of INBOX's
// children on a server whose delimiter is "/": "inbox.x" and "INBOX.x" are
// two mailboxes there.
func listedSame(m *MailboxInfo, name string) bool {
	if codec.ExactMailbox(m.Name, name) {
		return true
	}
	head := len("INBOX") + len(m.Delim)
	return m.Delim != "" && len(m.Name) == len(name) && len(name) > head &&
		equalFold(m.Name[:5], "INBOX") && equalFold(name[:5], "INBOX") &&
		m.Name[5:] == name[5:] && m.Name[5:head] == m.Delim
}
