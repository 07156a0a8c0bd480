package codec

import "strings"

// Response is one decoded server response. The set of types is closed:
// *Status, *Continuation, *Capability, *Enabled, *Flags, *Exists, *Recent,
// *Expunge, *Fetch, *List, *MailboxStatus, *Search, *ESearch, *Sort,
// *Thread, *Namespace, *Quota, *QuotaRoot, *ACL, *ListRights, *MyRights,
// *Annotation, *Metadata, *ID, *Vanished and *Unknown, which keeps any other
// response raw. Switch on the type:
//
//	switch r := resp.(type) {
//	case *codec.Exists:
//		...
//	}
//
// A Response returned by a Decoder borrows its memory: it is valid until
// the next call to Decoder.Next. Keep one with CloneResponse.
type Response interface {
	response()
}

// StatusKind is the kind of a status response.
type StatusKind uint8

// Status kinds (RFC 9051 section 7.1).
const (
	StatusOK StatusKind = iota + 1
	StatusNO
	StatusBAD
	StatusBYE
	StatusPREAUTH
)

var statusNames = [...]string{"", "OK", "NO", "BAD", "BYE", "PREAUTH"}

// String returns "OK", "NO", "BAD", "BYE" or "PREAUTH".
func (k StatusKind) String() string {
	if int(k) < len(statusNames) {
		return statusNames[k]
	}
	return "?"
}

// MarshalText implements encoding.TextMarshaler.
func (k StatusKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Status is a status response, tagged (Tag set) or untagged (Tag nil):
// OK, NO, BAD, BYE, or the PREAUTH greeting (RFC 9051 section 7.1). A
// tagged Status is OK, NO or BAD: a tagged BYE or PREAUTH (untagged only
// in RFC 3501 and RFC 9051) decodes as an *Unknown, as any other tagged
// name does.
//
// Kind is 0 for a response code that a server sent on its own, untagged
// and without a status: Exchange sends "[COPYUID 55 31 6]" (with or
// without a leading "*") after MOVE. Code is then set.
type Status struct {
	Tag  Bytes      // nil for an untagged response
	Kind StatusKind // 0 for a response code without a status
	Code *Code      // the response code, nil when there is none
	Text Bytes      // the human-readable text, possibly empty
}

// Continuation is a continuation request, "+ text" (RFC 9051 section
// 7.5). For AUTHENTICATE, Text is the base64 challenge.
type Continuation struct {
	Text Bytes
}

// Capability is an untagged CAPABILITY response.
type Capability struct {
	Caps []Bytes
}

// Enabled is an untagged ENABLED response (RFC 5161).
type Enabled struct {
	Caps []Bytes
}

// Flags is an untagged FLAGS response: the flags defined in the mailbox.
type Flags struct {
	Flags []Bytes
}

// Exists is an untagged EXISTS response: the number of messages.
type Exists struct {
	Count uint32
}

// Recent is an untagged RECENT response (IMAP4rev1 only).
type Recent struct {
	Count uint32
}

// Expunge is an untagged EXPUNGE response: the sequence number removed,
// from 1 ("* 0 EXPUNGE" is a *DecodeError).
type Expunge struct {
	Seq uint32
}

// List is an untagged LIST or LSUB response, with the LIST-EXTENDED data
// of RFC 5258 (CHILDINFO) and RFC 9051 (OLDNAME).
type List struct {
	LSUB       bool    // an LSUB response
	Attrs      []Bytes // name attributes such as \HasNoChildren, \Sent
	Delim      byte    // the hierarchy delimiter; 0 for NIL
	Mailbox    Bytes   // as sent: modified UTF-7 unless UTF-8 is enabled
	ChildInfo  []Bytes // CHILDINFO extended data, e.g. SUBSCRIBED
	OldName    Bytes   // OLDNAME extended data; nil when absent
	Extensions []ListExtension
}

// ListExtension is one unknown item of LIST extended data, kept raw.
type ListExtension struct {
	Tag   Bytes
	Value Bytes // the raw value
}

// StatusItem flags which items a MailboxStatus holds.
type StatusItem uint16

// STATUS items (RFC 9051 section 7.3.4, RFC 7162, RFC 8438, RFC 7889).
const (
	StatusMessages StatusItem = 1 << iota
	StatusRecent
	StatusUIDNext
	StatusUIDValidity
	StatusUnseen
	StatusDeleted
	StatusSize
	StatusHighestModSeq
	StatusAppendLimit
	StatusMailboxID
)

// MailboxStatus is an untagged STATUS response. A UIDNEXT or UIDVALIDITY
// of 0 (nz-numbers, but some servers send a 0) is taken as not sent: its
// bit is clear in Items, its field 0 (unknown).
type MailboxStatus struct {
	Mailbox       Bytes
	Items         StatusItem // which of the fields below were sent
	Messages      uint32
	Recent        uint32
	UIDNext       uint32
	UIDValidity   uint32
	Unseen        uint32
	Deleted       uint32
	Size          uint64
	HighestModSeq uint64
	AppendLimit   uint64 // 0 with the item present means NIL (no limit)
	MailboxID     Bytes
	Unknown       []ListExtension // items this codec does not know, raw
}

// Has reports whether the item was sent.
func (s *MailboxStatus) Has(item StatusItem) bool { return s.Items&item != 0 }

// Search is an untagged SEARCH response: message numbers or UIDs, and the
// MODSEQ of RFC 7162 when present. The numbers are nz-numbers: a response
// with a 0 among them is a *DecodeError (0 is "*" in a SeqSet).
type Search struct {
	Nums   []uint32
	ModSeq uint64 // 0 when absent
}

// ESearch is an untagged ESEARCH response (RFC 4731, RFC 9051). Min and
// Max are from 1 (MIN 0 or MAX 0 is a *DecodeError); Count may be 0. All
// never holds "*": an ALL that does is a *DecodeError (the server's
// numbers are known to it; "*" is none it matched).
type ESearch struct {
	Tag    Bytes // the correlator's tag; nil when absent
	UID    bool
	Has    ESearchItem
	Min    uint32
	Max    uint32
	Count  uint32
	All    SeqSet
	ModSeq uint64
	// Unknown holds return data this codec does not know, raw.
	Unknown []ListExtension
}

// ESearchItem flags which items an ESearch holds.
type ESearchItem uint8

// ESEARCH return items.
const (
	ESearchMin ESearchItem = 1 << iota
	ESearchMax
	ESearchCount
	ESearchAll
	ESearchModSeq
)

// NamesMessages reports whether r carries message numbers: MIN, MAX, ALL,
// or return data this codec does not know (such as RFC 9394's PARTIAL).
// Only then does its UID indicator matter (RFC 4731 section 3.1): an
// ESEARCH with no data, or COUNT and MODSEQ alone, names no message of
// either kind, and servers leave the indicator out of such an answer to a
// UID SEARCH (Cyrus 2.4's `* ESEARCH (TAG "x")`, Gmail's bare `* ESEARCH`).
func (r *ESearch) NamesMessages() bool {
	return r.Has&(ESearchMin|ESearchMax|ESearchAll) != 0 || len(r.Unknown) > 0
}

// Answers reports whether r may be the answer of the SEARCH command (a UID
// SEARCH when uid is set) sent with tag: untagged or tagged with tag
// (RFC 4731 section 3.1's correlator), and of the command's kind of
// numbers when it names messages (NamesMessages: its UID indicator).
func (r *ESearch) Answers(tag string, uid bool) bool {
	return (r.Tag == nil || string(r.Tag) == tag) && (r.UID == uid || !r.NamesMessages())
}

// Sort is an untagged SORT response (RFC 5256). As in Search, a 0 among
// the numbers is a *DecodeError.
type Sort struct {
	Nums   []uint32
	ModSeq uint64
}

// Thread is an untagged THREAD response (RFC 5256): a forest of threads.
type Thread struct {
	Threads []*ThreadNode
}

// ThreadNode is one message in a thread and its replies. A node with Num 0
// stands for a missing parent that the server grouped siblings under.
type ThreadNode struct {
	Num      uint32
	Children []*ThreadNode
}

// Namespace is an untagged NAMESPACE response (RFC 2342).
type Namespace struct {
	Personal []NamespaceDesc
	Other    []NamespaceDesc
	Shared   []NamespaceDesc
}

// NamespaceDesc is one namespace: its prefix and delimiter (0 for NIL).
type NamespaceDesc struct {
	Prefix Bytes
	Delim  byte
	// LongDelim is the delimiter as sent when it is longer than one
	// character (Delim is then 0); nil otherwise.
	LongDelim  Bytes
	Extensions []ListExtension
}

// Quota is an untagged QUOTA response (RFC 9208).
type Quota struct {
	Root      Bytes
	Resources []QuotaResource
}

// QuotaResource is one resource of a quota root: its usage and limit.
type QuotaResource struct {
	Name  Bytes // STORAGE (in KiB), MESSAGE, ...
	Usage uint64
	Limit uint64
}

// QuotaRoot is an untagged QUOTAROOT response.
type QuotaRoot struct {
	Mailbox Bytes
	Roots   []Bytes
}

// ACL is an untagged ACL response (RFC 4314).
type ACL struct {
	Mailbox Bytes
	Entries []ACLEntry
}

// ACLEntry is one identifier and its rights.
type ACLEntry struct {
	Identifier Bytes
	Rights     Bytes
}

// ListRights is an untagged LISTRIGHTS response.
type ListRights struct {
	Mailbox    Bytes
	Identifier Bytes
	Required   Bytes
	Optional   []Bytes
}

// MyRights is an untagged MYRIGHTS response.
type MyRights struct {
	Mailbox Bytes
	Rights  Bytes
}

// Annotation is an untagged ANNOTATION response of the ANNOTATEMORE
// draft, which imaplib's getannotation speaks.
type Annotation struct {
	Mailbox Bytes
	Entry   Bytes
	Attrs   []Param // attribute/value pairs; a nil Value is NIL
}

// Metadata is an untagged METADATA response (RFC 5464): entries with
// values, or, unsolicited, only entry names (Values is false).
type Metadata struct {
	Mailbox Bytes
	Values  bool
	Entries []Param // Name is the entry; Value its value (nil for NIL)
	// Skipped are, with DecoderOptions.SkipLargeMetadata (a session's
	// decoder), the entries whose value was a literal larger than the
	// tokenizer's MaxStringLiteral (wire.DefaultMaxStringLiteral, 64 KiB,
	// by default): the value was read past, not kept, and the entry is
	// not in Entries; the rest of the response is decoded. (Without the
	// option, and before it, such a value fails the whole response with
	// wire.ErrStringTooLarge, the entries beside it lost.)
	// AppendResponse leaves them out.
	Skipped []SkippedValue
}

// SkippedValue is an entry of a METADATA response whose value was too
// large to keep (Metadata.Skipped).
type SkippedValue struct {
	Name Bytes // the entry
	Size int64 // the value's size in bytes, as its literal announced
}

// ID is an untagged ID response (RFC 2971). Params is nil for NIL.
type ID struct {
	Params []Param
}

// Vanished is an untagged VANISHED response (RFC 7162). UIDs never holds
// "*" (known-uids): a VANISHED with one is a *DecodeError.
type Vanished struct {
	Earlier bool
	UIDs    SeqSet
}

// Unknown is a response this codec does not know. It is kept raw; it is
// never an error. A tagged response other than OK, NO or BAD is one
// ("A1 XFOO", and "A1 BYE" or "A1 PREAUTH", which the RFCs have untagged
// only), its Name as sent.
type Unknown struct {
	Tag    Bytes  // "*" for untagged, "+" for a continuation, else the tag
	Num    uint32 // the number before the name ("* 5 XFOO"), when HasNum
	HasNum bool
	Name   Bytes // the response name, e.g. XFOO; empty when the response starts with a literal
	Rest   Bytes // the rest of the line, raw, literals included
}

// ResponseName returns the name r has on the wire: "OK", "NO", "BAD",
// "BYE" or "PREAUTH" for a status ("CODE" for a response code sent without
// a status), "CONTINUATION" for "+", "FETCH", "LIST", "LSUB", "STATUS", ...
// and, for an Unknown, its own name in upper case ("" when it has none).
func ResponseName(r Response) string {
	switch r := r.(type) {
	case *Status:
		if r.Kind == 0 {
			return "CODE"
		}
		return r.Kind.String()
	case *Continuation:
		return "CONTINUATION"
	case *Capability:
		return "CAPABILITY"
	case *Enabled:
		return "ENABLED"
	case *Flags:
		return "FLAGS"
	case *Exists:
		return "EXISTS"
	case *Recent:
		return "RECENT"
	case *Expunge:
		return "EXPUNGE"
	case *Fetch:
		return "FETCH"
	case *List:
		if r.LSUB {
			return "LSUB"
		}
		return "LIST"
	case *MailboxStatus:
		return "STATUS"
	case *Search:
		return "SEARCH"
	case *ESearch:
		return "ESEARCH"
	case *Sort:
		return "SORT"
	case *Thread:
		return "THREAD"
	case *Namespace:
		return "NAMESPACE"
	case *Quota:
		return "QUOTA"
	case *QuotaRoot:
		return "QUOTAROOT"
	case *ACL:
		return "ACL"
	case *ListRights:
		return "LISTRIGHTS"
	case *MyRights:
		return "MYRIGHTS"
	case *Annotation:
		return "ANNOTATION"
	case *Metadata:
		return "METADATA"
	case *ID:
		return "ID"
	case *Vanished:
		return "VANISHED"
	case *Unknown:
		return strings.ToUpper(string(r.Name))
	}
	return ""
}

func (*Status) response()        {}
func (*Continuation) response()  {}
func (*Capability) response()    {}
func (*Enabled) response()       {}
func (*Flags) response()         {}
func (*Exists) response()        {}
func (*Recent) response()        {}
func (*Expunge) response()       {}
func (*Fetch) response()         {}
func (*List) response()          {}
func (*MailboxStatus) response() {}
func (*Search) response()        {}
func (*ESearch) response()       {}
func (*Sort) response()          {}
func (*Thread) response()        {}
func (*Namespace) response()     {}
func (*Quota) response()         {}
func (*QuotaRoot) response()     {}
func (*ACL) response()           {}
func (*ListRights) response()    {}
func (*MyRights) response()      {}
func (*Annotation) response()    {}
func (*Metadata) response()      {}
func (*ID) response()            {}
func (*Vanished) response()      {}
func (*Unknown) response()       {}
