package codec

// FetchItem flags which attributes a Fetch holds.
type FetchItem uint32

// FETCH attributes (RFC 9051 section 7.5.2 and extensions).
const (
	FetchUID FetchItem = 1 << iota
	FetchFlags
	FetchInternalDate
	FetchRFC822Size
	FetchEnvelope
	FetchBodyStructure // BODYSTRUCTURE, or BODY without a section (BodyStructure.Extended tells)
	FetchModSeq        // RFC 7162
	FetchEmailID       // RFC 8474
	FetchThreadID      // RFC 8474
	FetchSaveDate      // RFC 8514
	FetchPreview       // RFC 8970
	FetchGmailMsgID    // X-GM-MSGID
	FetchGmailThreadID // X-GM-THRID
	FetchGmailLabels   // X-GM-LABELS
)

// Fetch is an untagged FETCH response: the attributes of one message.
// Has says which fields were sent. Section bodies (BODY[...], BINARY[...],
// RFC822, RFC822.HEADER, RFC822.TEXT) are in Sections; with a
// DecoderOptions.SectionHandler they are streamed to it instead. Seq and
// UID (when sent) are from 1: "* 0 FETCH" or "UID 0" is a *DecodeError.
type Fetch struct {
	Seq uint32
	Has FetchItem

	UID           uint32
	Flags         []Bytes
	InternalDate  Bytes // raw; parse with ParseInternalDate
	RFC822Size    int64 // a negative size sent by the server (Exchange's -1) is kept
	Envelope      *Envelope
	BodyStructure *BodyStructure
	ModSeq        uint64
	EmailID       Bytes
	ThreadID      Bytes // nil for NIL
	SaveDate      Bytes // nil for NIL
	Preview       Bytes // nil for NIL
	GmailMsgID    uint64
	GmailThreadID uint64
	GmailLabels   []Bytes

	Sections    []Section
	BinarySizes []BinarySize
	// Unknown holds the attributes this codec does not know, in the order
	// they came, raw.
	Unknown []FetchAttr
}

// FetchAttr is an attribute of a FETCH response that this codec does not
// know (an extension's, such as "X-FOO (a b)"), or a known name in a form
// it does not decode ("UID[] 5"), kept raw.
type FetchAttr struct {
	// Name is the attribute's name as sent, e.g. X-FOO. Of a name with a
	// bracketed part (X-FOO[1.2]) only what precedes the bracket is kept.
	Name Bytes
	// Raw is the attribute's value as sent: a number, an atom, a string
	// with its quotes or literal header, or a parenthesized list.
	Raw Bytes
}

// SectionKind tells which FETCH attribute a Section came from.
type SectionKind uint8

// Section kinds.
const (
	SectionBody         SectionKind = iota + 1 // BODY[...]
	SectionBinary                              // BINARY[...] (RFC 3516)
	SectionRFC822                              // RFC822
	SectionRFC822Header                        // RFC822.HEADER
	SectionRFC822Text                          // RFC822.TEXT
)

var sectionKindNames = [...]string{"", "BODY", "BINARY", "RFC822", "RFC822.HEADER", "RFC822.TEXT"}

// String returns the attribute name.
func (k SectionKind) String() string {
	if int(k) < len(sectionKindNames) {
		return sectionKindNames[k]
	}
	return "?"
}

// MarshalText implements encoding.TextMarshaler.
func (k SectionKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Section is one body section of a FETCH response.
type Section struct {
	Kind SectionKind
	// Spec is the section specification between the brackets, raw, e.g.
	// "1.2.HEADER.FIELDS (FROM TO)"; empty for BODY[] and the RFC822 forms.
	Spec      Bytes
	Part      []uint32 // the part numbers of Spec, e.g. [1 2]
	Specifier Bytes    // HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT, MIME; empty when none
	Fields    []Bytes  // the header field names of HEADER.FIELDS (.NOT)
	Origin    uint32   // the <origin> of a partial fetch, when HasOrigin
	HasOrigin bool
	// Data is the body, nil for NIL. It is nil too when the body was
	// streamed to a SectionHandler (Streamed).
	Data     Bytes
	Streamed bool
	Size     int64 // the body's size in octets
	// Missing reports a section the server sent with no value at all
	// (Yandex: "BODY[2] )"); Data is then empty, not nil.
	Missing bool
}

// BinarySize is one BINARY.SIZE[part] attribute (RFC 3516).
type BinarySize struct {
	Part []uint32
	Size uint64
}
