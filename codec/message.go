package codec

// Envelope is a message's ENVELOPE (RFC 9051 section 7.5.2). Strings are
// raw as sent: Subject may hold RFC 2047 encoded-words (DecodedSubject
// decodes them) and Date is the unparsed Date header (Time parses it).
type Envelope struct {
	Date      Bytes
	Subject   Bytes
	From      []Address
	Sender    []Address
	ReplyTo   []Address
	To        []Address
	Cc        []Address
	Bcc       []Address
	InReplyTo Bytes
	MessageID Bytes
}

// Address is one address of an ENVELOPE. RFC 9051 marks a group with two
// entries: one with Host nil and Mailbox the group's name (the start), and
// one with Host and Mailbox nil (the end).
type Address struct {
	Name    Bytes // display name, raw (may hold encoded-words)
	ADL     Bytes // source route, obsolete
	Mailbox Bytes
	Host    Bytes
}

// IsGroupStart reports whether a marks the start of a group.
func (a *Address) IsGroupStart() bool { return a.Host == nil && a.Mailbox != nil }

// IsGroupEnd reports whether a marks the end of a group.
func (a *Address) IsGroupEnd() bool { return a.Host == nil && a.Mailbox == nil }

// Param is a name/value pair of a body parameter list.
type Param struct {
	Name  Bytes
	Value Bytes
}

// BodyStructure is a message's BODYSTRUCTURE or BODY (RFC 9051 section
// 7.5.2), for every body type: multipart, message/rfc822 and
// message/global (with an envelope and a nested body), text and the rest.
type BodyStructure struct {
	Type    Bytes // e.g. "text", "multipart"; as sent
	Subtype Bytes // e.g. "plain", "mixed"

	// Multipart only.
	Children []*BodyStructure

	// Single parts only.
	Params      []Param
	ID          Bytes
	Description Bytes
	Encoding    Bytes
	Size        int64 // octets; a negative size sent by the server (Exchange's -1) is kept
	Lines       int64 // text/* and message/rfc822 only
	Envelope    *Envelope
	Body        *BodyStructure // message/rfc822 and message/global only

	// Extension data, present when Extended (BODYSTRUCTURE, not BODY).
	Extended          bool
	MultipartParams   []Param // multipart only: body-fld-param
	MD5               Bytes   // single parts only
	Disposition       Bytes
	DispositionParams []Param
	Language          []Bytes
	Location          Bytes
	// Extension holds any further extension data, raw.
	Extension Bytes
}

// IsMultipart reports whether b is a multipart body with parts. A
// multipart without parts, which older servers send as the body of a
// message/rfc822 part, has Type "multipart" and no Children.
func (b *BodyStructure) IsMultipart() bool { return len(b.Children) > 0 }
