package codec

import (
	"strconv"

	"github.com/imapkit/imapkit/wire"
)

// AppendResponse appends r in canonical IMAP syntax, CRLF included. It is
// what scripted test servers and the round-trip fuzzers use.
//
// Every value a Decoder returns is written so that decoding the output gives
// the same value back, and AppendResponse of that gives the same bytes:
// decode(AppendResponse(decode(x))) equals decode(x). The forms it picks:
//
//   - Strings, envelope and body structure ones included, take the form
//     that wire.StringForm picks with the default wire.EncoderOptions (the
//     Encoder's policy, for a peer without UTF8=ACCEPT): where the grammar
//     allows an astring (mailbox names, ACL identifiers, quota roots, ...)
//     an atom when the bytes are a valid atom (no ']', not "NIL");
//     elsewhere, and when they are not, a quoted string when that is safe
//     (no CR, LF or NUL, no byte with the high bit set, at most
//     wire.DefaultMaxQuoted bytes, 1 KiB), with \ and " escaped; a literal
//     {n} otherwise. Where the grammar allows NIL, a nil Bytes is NIL.
//   - Raw fields (Code.Raw, ListExtension.Value, FetchAttr.Raw, Unknown.Rest,
//     Section.Spec, BodyStructure.Extension) are written as they are:
//     they hold syntax, not strings.
//   - Status and Continuation text is written as is, except that a line
//     feed becomes a space. A code with neither a known Kind nor a Name is
//     left out.
//   - Flags, capabilities, object ids and other atoms are written as they
//     are: they must be valid atoms, as decoded ones are.
//   - Sequence sets are written in canonical form, except in APPENDUID and
//     COPYUID, where the order pairs source and destination UIDs and is
//     kept.
//   - FETCH attributes are written in a fixed order: UID, FLAGS,
//     INTERNALDATE, RFC822.SIZE, ENVELOPE, BODYSTRUCTURE (BODY unless every
//     part of the BodyStructure is Extended), MODSEQ, EMAILID, THREADID,
//     SAVEDATE, PREVIEW, X-GM-MSGID, X-GM-THRID, X-GM-LABELS, the sections,
//     BINARY.SIZE, the unknown attributes and last a Missing section,
//     without a value (a Fetch may hold one). A section whose body went to
//     a SectionHandler (Streamed) is written with a NIL body: the decoder
//     no longer has it. A section body with a NUL byte in a BINARY section
//     is a literal8 (~{n}). An unknown attribute whose name is one the
//     decoder knows is written as name[] value, which decodes as unknown
//     again.
//   - A Metadata's Skipped entries (values over the tokenizer's
//     MaxStringLiteral that the decoder read past) are left out: it has
//     no value to write.
//   - A Status of Kind 0 (a response code without a status) is written
//     "* [code] text"; it needs a Code. An Unknown without a Name is
//     written "* " and its Rest (a response that started with a literal).
//   - Absent optional parts are left out (an empty SEARCH is "* SEARCH",
//     a Status without text ends with the SP that RFC 9051 requires).
//
// A hand-built value must respect the grammar the way decoded values do
// (non-empty sequence sets, valid atoms, a known Status Kind); otherwise
// the output may not decode.
func AppendResponse(dst []byte, r Response) []byte {
	switch r := r.(type) {
	case *Status:
		return encStatus(dst, r)
	case *Continuation:
		dst = append(dst, "+ "...)
		dst = encText(dst, r.Text)
	case *Capability:
		dst = append(dst, "* CAPABILITY"...)
		dst = encAtoms(dst, r.Caps)
	case *Enabled:
		dst = append(dst, "* ENABLED"...)
		dst = encAtoms(dst, r.Caps)
	case *Flags:
		dst = append(dst, "* FLAGS "...)
		dst = encAtomList(dst, r.Flags)
	case *Exists:
		dst = encNumResp(dst, r.Count, "EXISTS")
	case *Recent:
		dst = encNumResp(dst, r.Count, "RECENT")
	case *Expunge:
		dst = encNumResp(dst, r.Seq, "EXPUNGE")
	case *Fetch:
		dst = encFetch(dst, r)
	case *List:
		dst = encList(dst, r)
	case *MailboxStatus:
		dst = encMailboxStatus(dst, r)
	case *Search:
		dst = append(dst, "* SEARCH"...)
		dst = encNums(dst, r.Nums, r.ModSeq)
	case *ESearch:
		dst = encESearch(dst, r)
	case *Sort:
		dst = append(dst, "* SORT"...)
		dst = encNums(dst, r.Nums, r.ModSeq)
	case *Thread:
		dst = append(dst, "* THREAD"...)
		if len(r.Threads) > 0 {
			dst = append(dst, ' ')
		}
		for _, n := range r.Threads {
			if n != nil {
				dst = encThread(dst, n)
			}
		}
	case *Namespace:
		dst = append(dst, "* NAMESPACE"...)
		for _, l := range [...][]NamespaceDesc{r.Personal, r.Other, r.Shared} {
			dst = append(dst, ' ')
			dst = encNamespaces(dst, l)
		}
	case *Quota:
		dst = append(dst, "* QUOTA "...)
		dst = encAString(dst, r.Root)
		dst = append(dst, " ("...)
		for i, q := range r.Resources {
			if i > 0 {
				dst = append(dst, ' ')
			}
			dst = encAString(dst, q.Name)
			dst = append(dst, ' ')
			dst = strconv.AppendUint(dst, q.Usage, 10)
			dst = append(dst, ' ')
			dst = strconv.AppendUint(dst, q.Limit, 10)
		}
		dst = append(dst, ')')
	case *QuotaRoot:
		dst = append(dst, "* QUOTAROOT "...)
		dst = encAString(dst, r.Mailbox)
		for _, root := range r.Roots {
			dst = append(dst, ' ')
			dst = encAString(dst, root)
		}
	case *ACL:
		dst = append(dst, "* ACL "...)
		dst = encAString(dst, r.Mailbox)
		for _, e := range r.Entries {
			dst = append(dst, ' ')
			dst = encAString(dst, e.Identifier)
			dst = append(dst, ' ')
			dst = encAString(dst, e.Rights)
		}
	case *ListRights:
		dst = append(dst, "* LISTRIGHTS "...)
		dst = encAString(dst, r.Mailbox)
		dst = append(dst, ' ')
		dst = encAString(dst, r.Identifier)
		dst = append(dst, ' ')
		dst = encAString(dst, r.Required)
		for _, o := range r.Optional {
			dst = append(dst, ' ')
			dst = encAString(dst, o)
		}
	case *MyRights:
		dst = append(dst, "* MYRIGHTS "...)
		dst = encAString(dst, r.Mailbox)
		dst = append(dst, ' ')
		dst = encAString(dst, r.Rights)
	case *Annotation:
		dst = append(dst, "* ANNOTATION "...)
		dst = encAString(dst, r.Mailbox)
		dst = append(dst, ' ')
		dst = encAString(dst, r.Entry)
		dst = append(dst, ' ')
		dst = encParams(dst, r.Attrs, false)
	case *Metadata:
		dst = append(dst, "* METADATA "...)
		dst = encAString(dst, r.Mailbox)
		dst = append(dst, ' ')
		if r.Values {
			dst = encParams(dst, r.Entries, false)
		} else {
			for i, e := range r.Entries {
				if i > 0 {
					dst = append(dst, ' ')
				}
				dst = encAString(dst, e.Name)
			}
		}
	case *ID:
		dst = append(dst, "* ID "...)
		if r.Params == nil {
			dst = append(dst, "NIL"...)
		} else {
			dst = encParams(dst, r.Params, true)
		}
	case *Vanished:
		dst = append(dst, "* VANISHED "...)
		if r.Earlier {
			dst = append(dst, "(EARLIER) "...)
		}
		dst = r.UIDs.AppendTo(dst)
	case *Unknown:
		dst = append(dst, r.Tag...)
		if r.HasNum {
			dst = append(dst, ' ')
			dst = strconv.AppendUint(dst, uint64(r.Num), 10)
		}
		dst = append(dst, ' ')
		dst = append(dst, r.Name...)
		if len(r.Rest) > 0 {
			if len(r.Name) > 0 {
				dst = append(dst, ' ')
			}
			dst = append(dst, r.Rest...)
		}
	default:
		return dst
	}
	return append(dst, '\r', '\n')
}

// encStatus appends a status response: tag (or *), kind, code and text.
func encStatus(dst []byte, r *Status) []byte {
	if r.Tag == nil {
		dst = append(dst, '*')
	} else {
		dst = append(dst, r.Tag...)
	}
	dst = append(dst, ' ')
	if r.Kind != 0 {
		dst = append(dst, r.Kind.String()...)
		dst = append(dst, ' ')
	}
	if r.Code != nil {
		dst = encCode(dst, r.Code)
	}
	dst = encText(dst, r.Text)
	return append(dst, '\r', '\n')
}

// encText appends resp-text, turning line feeds into spaces so that the
// line cannot end early.
func encText(dst []byte, text Bytes) []byte {
	for _, c := range text {
		if c == '\n' {
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}

// encCode appends "[" code "]" SP. The name is written as sent when it
// names the code's Kind, else the Kind's canonical name.
func encCode(dst []byte, c *Code) []byte {
	name := c.Name
	if len(name) == 0 || !encIsAtom(name) || codeKind(name) != c.Kind {
		if c.Kind == CodeOther {
			return dst
		}
		name = Bytes(c.Kind.String())
	}
	dst = append(dst, '[')
	dst = append(dst, name...)
	switch c.Kind {
	case CodeCapability:
		dst = encAtoms(dst, c.Caps)
	case CodePermanentFlags:
		dst = append(dst, ' ')
		dst = encAtomList(dst, c.Flags)
	case CodeBadCharset:
		if len(c.Charsets) > 0 {
			dst = append(dst, " ("...)
			for i, cs := range c.Charsets {
				if i > 0 {
					dst = append(dst, ' ')
				}
				dst = encAString(dst, cs)
			}
			dst = append(dst, ')')
		}
	case CodeUIDNext, CodeUIDValidity, CodeUnseen, CodeHighestModSeq:
		dst = append(dst, ' ')
		dst = strconv.AppendUint(dst, c.Num, 10)
	case CodeAppendUID:
		dst = append(dst, ' ')
		dst = strconv.AppendUint(dst, uint64(c.UIDValidity), 10)
		dst = append(dst, ' ')
		dst = wire.AppendSeqSet(dst, c.Dst.Ranges())
	case CodeCopyUID:
		dst = append(dst, ' ')
		dst = strconv.AppendUint(dst, uint64(c.UIDValidity), 10)
		dst = append(dst, ' ')
		dst = wire.AppendSeqSet(dst, c.Src.Ranges())
		dst = append(dst, ' ')
		dst = wire.AppendSeqSet(dst, c.Dst.Ranges())
	case CodeModified:
		dst = append(dst, ' ')
		dst = c.Set.AppendTo(dst)
	case CodeMetadata:
		dst = append(dst, ' ')
		dst = append(dst, c.Sub...)
		if eqFold(c.Sub, "LONGENTRIES") || eqFold(c.Sub, "MAXSIZE") {
			dst = append(dst, ' ')
			dst = strconv.AppendUint(dst, c.Num, 10)
		}
	case CodeMailboxID:
		dst = append(dst, " ("...)
		dst = append(dst, c.Sub...)
		dst = append(dst, ')')
	default:
		if c.Raw != nil {
			dst = append(dst, ' ')
			dst = append(dst, c.Raw...)
		}
	}
	return append(dst, "] "...)
}

// encNumResp appends "* n NAME".
func encNumResp(dst []byte, n uint32, name string) []byte {
	dst = append(dst, "* "...)
	dst = strconv.AppendUint(dst, uint64(n), 10)
	dst = append(dst, ' ')
	return append(dst, name...)
}

// encAtoms appends SP atom for each atom.
func encAtoms(dst []byte, atoms []Bytes) []byte {
	for _, a := range atoms {
		dst = append(dst, ' ')
		dst = append(dst, a...)
	}
	return dst
}

// encAtomList appends a parenthesized list of atoms (flags).
func encAtomList(dst []byte, atoms []Bytes) []byte {
	dst = append(dst, '(')
	for i, a := range atoms {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = append(dst, a...)
	}
	return append(dst, ')')
}

// encNums appends the numbers of a SEARCH or SORT response and its MODSEQ.
func encNums(dst []byte, nums []uint32, modSeq uint64) []byte {
	for _, n := range nums {
		dst = append(dst, ' ')
		dst = strconv.AppendUint(dst, uint64(n), 10)
	}
	if modSeq != 0 {
		dst = append(dst, " (MODSEQ "...)
		dst = strconv.AppendUint(dst, modSeq, 10)
		dst = append(dst, ')')
	}
	return dst
}

// encIsAtom reports whether b is a non-empty run of ASTRING-CHARs (RFC
// 9051): 7-bit, printable, none of ( ) { SP % * " \. ']' and '[' are
// allowed.
func encIsAtom(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !encAStringChar[c] {
			return false
		}
	}
	return true
}

// encAStringChar is ASTRING-CHAR: ATOM-CHAR plus ']'.
var encAStringChar = func() (t [256]bool) {
	for c := 0x21; c < 0x7f; c++ {
		switch c {
		case '(', ')', '{', '%', '*', '"', '\\':
		default:
			t[c] = true
		}
	}
	return t
}()

// encFlagOK reports whether b can be written as a flag or keyword atom
// (an optional leading '\' and ATOM-CHARs).
func encFlagOK(b []byte) bool {
	if len(b) > 0 && b[0] == '\\' {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !encAStringChar[c] || c == ']' || c == '[' {
			return false
		}
	}
	return true
}

// encIsNIL reports whether b is "NIL" in any case.
func encIsNIL(b []byte) bool {
	return len(b) == 3 && b[0]|0x20 == 'n' && b[1]|0x20 == 'i' && b[2]|0x20 == 'l'
}

// encAString appends b as an astring, in the form wire.StringForm picks
// with the default options: an atom, a quoted string or a literal.
func encAString(dst []byte, b []byte) []byte {
	return wire.AppendString(dst, b, true, nil)
}

// encNString appends b as an nstring: NIL when nil, else a string.
func encNString(dst []byte, b Bytes) []byte {
	if b == nil {
		return append(dst, "NIL"...)
	}
	return encString(dst, b)
}

// encString appends b as a string, quoted or a literal, in the form
// wire.StringForm picks with the default options.
func encString(dst []byte, b []byte) []byte {
	return wire.AppendString(dst, b, false, nil)
}

// encLiteral appends b as a literal {n}, or a literal8 ~{n} when binary.
func encLiteral(dst []byte, b []byte, binary bool) []byte {
	if binary {
		dst = append(dst, '~')
	}
	dst = append(dst, '{')
	dst = strconv.AppendUint(dst, uint64(len(b)), 10)
	dst = append(dst, "}\r\n"...)
	return append(dst, b...)
}

// encParams appends a parenthesized list of name/value pairs: names as
// astrings (or, for ID, as nstrings), values as nstrings.
func encParams(dst []byte, ps []Param, nstringNames bool) []byte {
	dst = append(dst, '(')
	for i, p := range ps {
		if i > 0 {
			dst = append(dst, ' ')
		}
		if nstringNames {
			dst = encNString(dst, p.Name)
		} else {
			dst = encAString(dst, p.Name)
		}
		dst = append(dst, ' ')
		dst = encNString(dst, p.Value)
	}
	return append(dst, ')')
}

// encDelim appends a hierarchy delimiter: NIL for 0, else a one-byte
// string.
func encDelim(dst []byte, d byte) []byte {
	if d == 0 {
		return append(dst, "NIL"...)
	}
	return encString(dst, []byte{d})
}

// encList appends a LIST or LSUB response with its extended data.
func encList(dst []byte, r *List) []byte {
	if r.LSUB {
		dst = append(dst, "* LSUB "...)
	} else {
		dst = append(dst, "* LIST "...)
	}
	dst = encAtomList(dst, r.Attrs)
	dst = append(dst, ' ')
	dst = encDelim(dst, r.Delim)
	dst = append(dst, ' ')
	dst = encAString(dst, r.Mailbox)
	if len(r.ChildInfo) == 0 && r.OldName == nil && len(r.Extensions) == 0 {
		return dst
	}
	dst = append(dst, " ("...)
	sep := false
	if len(r.ChildInfo) > 0 {
		dst = append(dst, `"CHILDINFO" (`...)
		for i, c := range r.ChildInfo {
			if i > 0 {
				dst = append(dst, ' ')
			}
			dst = encString(dst, c)
		}
		dst = append(dst, ')')
		sep = true
	}
	if r.OldName != nil {
		if sep {
			dst = append(dst, ' ')
		}
		dst = append(dst, `"OLDNAME" (`...)
		dst = encAString(dst, r.OldName)
		dst = append(dst, ')')
		sep = true
	}
	for _, e := range r.Extensions {
		if sep {
			dst = append(dst, ' ')
		}
		dst = encString(dst, e.Tag)
		dst = append(dst, ' ')
		dst = append(dst, e.Value...)
		sep = true
	}
	return append(dst, ')')
}

// encMailboxStatus appends a STATUS response.
func encMailboxStatus(dst []byte, r *MailboxStatus) []byte {
	dst = append(dst, "* STATUS "...)
	dst = encAString(dst, r.Mailbox)
	dst = append(dst, " ("...)
	sep := false
	item := func(name string) {
		if sep {
			dst = append(dst, ' ')
		}
		sep = true
		dst = append(dst, name...)
		dst = append(dst, ' ')
	}
	num := func(it StatusItem, name string, v uint64) {
		if r.Items&it != 0 {
			item(name)
			dst = strconv.AppendUint(dst, v, 10)
		}
	}
	num(StatusMessages, "MESSAGES", uint64(r.Messages))
	num(StatusRecent, "RECENT", uint64(r.Recent))
	num(StatusUIDNext, "UIDNEXT", uint64(r.UIDNext))
	num(StatusUIDValidity, "UIDVALIDITY", uint64(r.UIDValidity))
	num(StatusUnseen, "UNSEEN", uint64(r.Unseen))
	num(StatusDeleted, "DELETED", uint64(r.Deleted))
	num(StatusSize, "SIZE", r.Size)
	num(StatusHighestModSeq, "HIGHESTMODSEQ", r.HighestModSeq)
	if r.Items&StatusAppendLimit != 0 {
		if r.AppendLimit == 0 {
			item("APPENDLIMIT")
			dst = append(dst, "NIL"...)
		} else {
			num(StatusAppendLimit, "APPENDLIMIT", r.AppendLimit)
		}
	}
	if r.Items&StatusMailboxID != 0 {
		item("MAILBOXID")
		dst = append(dst, '(')
		dst = append(dst, r.MailboxID...)
		dst = append(dst, ')')
	}
	for _, u := range r.Unknown {
		if sep {
			dst = append(dst, ' ')
		}
		sep = true
		dst = append(dst, u.Tag...)
		dst = append(dst, ' ')
		dst = append(dst, u.Value...)
	}
	return append(dst, ')')
}

// encESearch appends an ESEARCH response.
func encESearch(dst []byte, r *ESearch) []byte {
	dst = append(dst, "* ESEARCH"...)
	if r.Tag != nil {
		dst = append(dst, " (TAG "...)
		dst = encString(dst, r.Tag)
		dst = append(dst, ')')
	}
	if r.UID {
		dst = append(dst, " UID"...)
	}
	num := func(it ESearchItem, name string, v uint64) {
		if r.Has&it != 0 {
			dst = append(dst, ' ')
			dst = append(dst, name...)
			dst = append(dst, ' ')
			dst = strconv.AppendUint(dst, v, 10)
		}
	}
	num(ESearchMin, "MIN", uint64(r.Min))
	num(ESearchMax, "MAX", uint64(r.Max))
	num(ESearchCount, "COUNT", uint64(r.Count))
	if r.Has&ESearchAll != 0 {
		dst = append(dst, " ALL "...)
		dst = r.All.AppendTo(dst)
	}
	num(ESearchModSeq, "MODSEQ", r.ModSeq)
	for _, u := range r.Unknown {
		dst = append(dst, ' ')
		dst = append(dst, u.Tag...)
		dst = append(dst, ' ')
		dst = append(dst, u.Value...)
	}
	return dst
}

// encThread appends one thread: "(" members ")". A chain of single
// replies is written flat ("(1 2 3)"); a node with several replies, or a
// placeholder reply (Num 0), has each reply in its own parentheses.
func encThread(dst []byte, n *ThreadNode) []byte {
	dst = append(dst, '(')
	for {
		if n.Num == 0 && encHasChild(n.Children) {
			// A placeholder parent: only its children are written. (A
			// childless node 0, which a placeholder never is, is written
			// as the number 0.)
			for _, c := range n.Children {
				if c != nil {
					dst = encThread(dst, c)
				}
			}
			break
		}
		dst = strconv.AppendUint(dst, uint64(n.Num), 10)
		kids := n.Children
		if only := encOnlyChild(kids); only != nil && only.Num != 0 {
			dst = append(dst, ' ')
			n = only
			continue
		}
		first := true
		for _, c := range kids {
			if c == nil {
				continue
			}
			if first {
				dst = append(dst, ' ')
				first = false
			}
			dst = encThread(dst, c)
		}
		break
	}
	return append(dst, ')')
}

// encHasChild reports whether kids holds a non-nil node.
func encHasChild(kids []*ThreadNode) bool {
	for _, k := range kids {
		if k != nil {
			return true
		}
	}
	return false
}

// encOnlyChild returns the one non-nil node of kids, or nil when there
// are none or several.
func encOnlyChild(kids []*ThreadNode) *ThreadNode {
	var only *ThreadNode
	for _, k := range kids {
		if k != nil {
			if only != nil {
				return nil
			}
			only = k
		}
	}
	return only
}

// encNamespaces appends one namespace list of a NAMESPACE response: NIL
// when empty.
func encNamespaces(dst []byte, l []NamespaceDesc) []byte {
	if len(l) == 0 {
		return append(dst, "NIL"...)
	}
	dst = append(dst, '(')
	for _, n := range l {
		dst = append(dst, '(')
		dst = encString(dst, n.Prefix)
		dst = append(dst, ' ')
		if len(n.LongDelim) > 1 {
			dst = encString(dst, n.LongDelim)
		} else {
			dst = encDelim(dst, n.Delim)
		}
		for _, e := range n.Extensions {
			dst = append(dst, ' ')
			dst = encString(dst, e.Tag)
			dst = append(dst, ' ')
			dst = append(dst, e.Value...)
		}
		dst = append(dst, ')')
	}
	return append(dst, ')')
}

// encFetch appends a FETCH response.
func encFetch(dst []byte, f *Fetch) []byte {
	dst = append(dst, "* "...)
	dst = strconv.AppendUint(dst, uint64(f.Seq), 10)
	dst = append(dst, " FETCH ("...)
	sep := false
	att := func(name string) {
		if sep {
			dst = append(dst, ' ')
		}
		sep = true
		dst = append(dst, name...)
	}
	if f.Has&FetchUID != 0 {
		att("UID ")
		dst = strconv.AppendUint(dst, uint64(f.UID), 10)
	}
	if f.Has&FetchFlags != 0 {
		att("FLAGS ")
		dst = encAtomList(dst, f.Flags)
	}
	if f.Has&FetchInternalDate != 0 {
		att("INTERNALDATE ")
		dst = encNString(dst, f.InternalDate)
	}
	if f.Has&FetchRFC822Size != 0 {
		att("RFC822.SIZE ")
		dst = strconv.AppendInt(dst, f.RFC822Size, 10)
	}
	if f.Has&FetchEnvelope != 0 {
		att("ENVELOPE ")
		dst = appendEnvelope(dst, f.Envelope)
	}
	if f.Has&FetchBodyStructure != 0 {
		if encAllExtended(f.BodyStructure) {
			att("BODYSTRUCTURE ")
		} else {
			att("BODY ")
		}
		dst = appendBodyStructure(dst, f.BodyStructure)
	}
	if f.Has&FetchModSeq != 0 {
		att("MODSEQ (")
		dst = strconv.AppendUint(dst, f.ModSeq, 10)
		dst = append(dst, ')')
	}
	if f.Has&FetchEmailID != 0 {
		att("EMAILID (")
		dst = append(dst, f.EmailID...)
		dst = append(dst, ')')
	}
	if f.Has&FetchThreadID != 0 {
		att("THREADID ")
		if f.ThreadID == nil {
			dst = append(dst, "NIL"...)
		} else {
			dst = append(dst, '(')
			dst = append(dst, f.ThreadID...)
			dst = append(dst, ')')
		}
	}
	if f.Has&FetchSaveDate != 0 {
		att("SAVEDATE ")
		dst = encNString(dst, f.SaveDate)
	}
	if f.Has&FetchPreview != 0 {
		att("PREVIEW ")
		dst = encNString(dst, f.Preview)
	}
	if f.Has&FetchGmailMsgID != 0 {
		att("X-GM-MSGID ")
		dst = strconv.AppendUint(dst, f.GmailMsgID, 10)
	}
	if f.Has&FetchGmailThreadID != 0 {
		att("X-GM-THRID ")
		dst = strconv.AppendUint(dst, f.GmailThreadID, 10)
	}
	if f.Has&FetchGmailLabels != 0 {
		att("X-GM-LABELS (")
		for i, l := range f.GmailLabels {
			if i > 0 {
				dst = append(dst, ' ')
			}
			if encFlagOK(l) && !encIsNIL(l) {
				dst = append(dst, l...)
			} else {
				dst = encString(dst, l)
			}
		}
		dst = append(dst, ')')
	}
	for i := range f.Sections {
		s := &f.Sections[i]
		if s.Missing {
			continue
		}
		if sep {
			dst = append(dst, ' ')
		}
		sep = true
		dst = encSection(dst, s)
	}
	for _, bs := range f.BinarySizes {
		att("BINARY.SIZE[")
		dst = encPart(dst, bs.Part)
		dst = append(dst, "] "...)
		dst = strconv.AppendUint(dst, bs.Size, 10)
	}
	for _, u := range f.Unknown {
		att("")
		dst = append(dst, u.Name...)
		if encKnownFetchAtt(u.Name) {
			// "UID[] x" is kept unknown by the decoder; "UID x" is not.
			dst = append(dst, "[]"...)
		}
		dst = append(dst, ' ')
		dst = append(dst, u.Raw...)
	}
	for i := range f.Sections {
		if s := &f.Sections[i]; s.Missing {
			att("")
			dst = encSectionName(dst, s)
			dst = append(dst, ' ')
		}
	}
	return append(dst, ')')
}

// encKnownFetchAtt reports the FETCH attribute names the decoder knows
// when they are followed by SP.
func encKnownFetchAtt(name []byte) bool {
	for _, k := range encFetchNames {
		if eqFold(name, k) {
			return true
		}
	}
	return false
}

var encFetchNames = [...]string{
	"UID", "BODY", "FLAGS", "MODSEQ", "RFC822", "EMAILID", "PREVIEW", "ENVELOPE",
	"THREADID", "SAVEDATE", "X-GM-MSGID", "X-GM-THRID", "RFC822.SIZE", "RFC822.TEXT",
	"X-GM-LABELS", "INTERNALDATE", "BODYSTRUCTURE", "RFC822.HEADER",
}

// encAllExtended reports whether every part of b carries extension data
// (Extended), which is how a BODYSTRUCTURE decodes; a BODY decodes with
// Extended set only on the parts that had extension data. nil counts as
// extended, so that a NIL body is written as BODYSTRUCTURE NIL.
func encAllExtended(b *BodyStructure) bool {
	if b == nil {
		return true
	}
	if !b.Extended {
		return false
	}
	for _, c := range b.Children {
		if c != nil && !encAllExtended(c) {
			return false
		}
	}
	return b.Body == nil || encAllExtended(b.Body)
}

// encPart appends section part numbers joined by dots.
func encPart(dst []byte, part []uint32) []byte {
	for i, p := range part {
		if i > 0 {
			dst = append(dst, '.')
		}
		dst = strconv.AppendUint(dst, uint64(p), 10)
	}
	return dst
}

// encSection appends one body section attribute and its body.
func encSection(dst []byte, s *Section) []byte {
	dst = encSectionName(dst, s)
	dst = append(dst, ' ')
	switch {
	case s.Streamed || s.Data == nil:
		return append(dst, "NIL"...)
	case s.Kind == SectionBinary && encHasNUL(s.Data):
		return encLiteral(dst, s.Data, true)
	}
	return encString(dst, s.Data)
}

// encSectionName appends a section attribute's name, section spec and
// origin.
func encSectionName(dst []byte, s *Section) []byte {
	switch s.Kind {
	case SectionRFC822, SectionRFC822Header, SectionRFC822Text:
		dst = append(dst, s.Kind.String()...)
	default:
		if s.Kind == SectionBinary {
			dst = append(dst, "BINARY["...)
		} else {
			dst = append(dst, "BODY["...)
		}
		if len(s.Spec) > 0 {
			dst = append(dst, s.Spec...)
		} else {
			dst = encPart(dst, s.Part)
			if len(s.Specifier) > 0 {
				if len(s.Part) > 0 {
					dst = append(dst, '.')
				}
				dst = append(dst, s.Specifier...)
				if eqFold(s.Specifier, "HEADER.FIELDS") || eqFold(s.Specifier, "HEADER.FIELDS.NOT") {
					dst = append(dst, " ("...)
					for i, h := range s.Fields {
						if i > 0 {
							dst = append(dst, ' ')
						}
						dst = encAString(dst, h)
					}
					dst = append(dst, ')')
				}
			}
		}
		dst = append(dst, ']')
		if s.HasOrigin {
			dst = append(dst, '<')
			dst = strconv.AppendUint(dst, uint64(s.Origin), 10)
			dst = append(dst, '>')
		}
	}
	return dst
}

func encHasNUL(b []byte) bool {
	for _, c := range b {
		if c == 0 {
			return true
		}
	}
	return false
}
