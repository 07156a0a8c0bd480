package commands_test

import "testing"

// TestReview41MRev2OnlyListedLatin1Name: dd82aa3 made a listed Name that is not
// valid UTF-8 ("Caf\xe9", a server that stores names as file names) go
// back as listed, but only outside UTF-8 mode (encodeMailbox looks at
// rawNames only when !utf8, and listInfo notes raw names only then).
// 759b709 turned UTF-8 mode on from the start for a server offering
// IMAP4rev2 without IMAP4rev1: the same LIST answer now gives a Name that
// every command refuses with ErrMailboxName before sending, though
// MailboxInfo.Name's doc says to pass it to the commands as it is.
func TestReview41MRev2OnlyListedLatin1Name(t *testing.T) {
	listedLatin1NameStatus(t, "IMAP4rev2")
}
