package commands

import (
	"sync"

	"github.com/imapkit/imapkit/codec"
)

// rawNamesMax bounds the names a Client remembers (rawNames): past it, the
// memory is cleared and the names are learned again from the next LIST.
// rawNamesMaxBytes bounds their bytes the same way, and a name over
// rawNameMax bytes is not remembered: a hostile server listing 4,096
// names of a megabyte each would have made the Client keep 8 GiB.
const (
	rawNamesMax      = 4096
	rawNamesMaxBytes = 1 << 20
	rawNameMax       = 1024
)

// rawNames remembers, of the mailbox names a LIST or LSUB answer gave,
// those whose Name does not encode back to the name as the server sent
// it: a server that does not write names in modified UTF-7 lists "R&D" or
// raw UTF-8, which MailboxInfo.Name decodes leniently and EncodeMailbox
// would send as another name ("R&-D"). So are those whose Name is not
// valid UTF-8 or holds a NUL or another C0 control (raw Latin-1 "Caf\xe9",
// passed through; "&AAA-", which decodes to NUL; "a&AAk-b", to a tab),
// which a command refuses from a caller (ErrMailboxName). A command given such a Name sends the name as listed
// (Client.encodeMailbox). A name whose bytes as sent hold a C0 control
// (a CR LF in a literal, a tab in a quoted string) is not remembered: it
// is refused as a caller's would be, so that no control byte is sent and
// the answer does not hang on where the name came from; one that decodes
// to a control but is sent without one ("a&AAk-b") is remembered.
//
// In UTF-8 mode (UTF8=ACCEPT enabled, or an IMAP4rev2-only server) a Name
// is the name as sent, and goes back as it is; only one a command would
// refuse from a caller (not valid UTF-8, "Caf\xe9"; holding a C0
// control) is remembered, so that a command does not refuse it.
// Each name is remembered with the mode it was listed in, and is sent as
// listed only in that mode: "&AAA-", listed before ENABLE UTF8=ACCEPT as
// a name in modified UTF-7, is another name after it.
//
// The names are the user's who was logged in when they were listed: each
// use gives the session's count of NONAUTH transitions
// (Session.Unauthentications), and a count other than the one they were
// noted under forgets them all. So an UNAUTHENTICATE the server ran
// forgets them however it was sent (Unauthenticate, one whose context
// ended after it went, Do), not only when Unauthenticate returned nil.
// The names of a LIST (or LSUB) answered under one count and handed out
// under another (a ListIter loop body that ran UNAUTHENTICATE) are not
// noted (Client.listInfo): they are the previous user's.
type rawNames struct {
	mu    sync.Mutex
	m     map[string]rawName // Name → the name as the server sent it
	bytes int                // of the names in m, both forms
	gen   uint32             // Session.Unauthentications when they were noted
}

// rawName is a name as the server listed it, and whether it was listed in
// UTF-8 mode.
type rawName struct {
	raw  string
	utf8 bool
}

// note records the name of a LIST or LSUB line: name is raw decoded as
// decodeMailbox does in the mode utf8 says. A name that goes back as raw
// without it drops what was recorded for it: of two names that decode
// alike ("R&D" and "R&-D"), the one listed last is the one Name reaches.
// gen is the session's Unauthentications now.
func (r *rawNames) note(name string, raw []byte, utf8 bool, gen uint32) {
	var same bool
	if utf8 {
		// Sent as is (name is raw), unless the caller's check refuses it.
		same = checkMailboxName(name) == nil
	} else {
		same = plainName(raw) || codec.EncodeMailbox(name) == string(raw) && checkMailboxName(name) == nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.syncLocked(gen)
	if old, ok := r.m[name]; ok {
		delete(r.m, name)
		r.bytes -= len(name) + len(old.raw)
	}
	if same || len(raw) > rawNameMax || controlByte(raw) {
		// A NUL, CR, LF or another C0 control byte as sent is not sent
		// back: such a name is refused as one the caller made up would
		// be, with ErrMailboxName, whatever its source. (Sent as
		// listed, a CR LF went in a literal and a tab in a quoted
		// string, raw, while the same name from STATUS, NOTIFY or a
		// LIST past the bounds above was refused.)
		return
	}
	if r.m == nil {
		r.m = make(map[string]rawName)
	} else if len(r.m) >= rawNamesMax || r.bytes+len(name)+len(raw) > rawNamesMaxBytes {
		clear(r.m)
		r.bytes = 0
	}
	r.m[name] = rawName{raw: string(raw), utf8: utf8}
	r.bytes += len(name) + len(raw)
}

// syncLocked forgets every name recorded when gen, the session's
// Unauthentications now, is not the count they were noted under: they
// were the previous user's (under r.mu).
func (r *rawNames) syncLocked(gen uint32) {
	if gen == r.gen {
		return
	}
	clear(r.m)
	r.bytes, r.gen = 0, gen
}

// raw returns the name as the server listed it, for a Name recorded by
// note in the same mode (utf8) and under the same count gen.
func (r *rawNames) raw(name string, utf8 bool, gen uint32) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.syncLocked(gen)
	n, ok := r.m[name]
	if !ok || n.utf8 != utf8 {
		return "", false
	}
	return n.raw, true
}

// controlByte reports whether b holds a C0 control byte (NUL to U+001F),
// which a mailbox name as sent may not hold (RFC 9051 section 5.1).
func controlByte(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// plainName reports whether b is printable US-ASCII without "&": a name
// that decodes to itself and encodes back to itself.
func plainName(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e || c == '&' {
			return false
		}
	}
	return true
}
