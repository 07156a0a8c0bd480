package codec

import "strconv"

// appendEnvelope appends e in canonical IMAP syntax (RFC 9051 section 9,
// envelope): strings as encNString writes them (AppendResponse's policy),
// NIL for nil. A nil e is NIL.
func appendEnvelope(dst []byte, e *Envelope) []byte {
	if e == nil {
		return append(dst, "NIL"...)
	}
	dst = append(dst, '(')
	dst = encNString(dst, e.Date)
	dst = append(dst, ' ')
	dst = encNString(dst, e.Subject)
	for _, l := range [...][]Address{e.From, e.Sender, e.ReplyTo, e.To, e.Cc, e.Bcc} {
		dst = append(dst, ' ')
		dst = msgAppendAddresses(dst, l)
	}
	dst = append(dst, ' ')
	dst = encNString(dst, e.InReplyTo)
	dst = append(dst, ' ')
	dst = encNString(dst, e.MessageID)
	return append(dst, ')')
}

// msgAppendAddresses appends an address list; an empty one is NIL.
func msgAppendAddresses(dst []byte, l []Address) []byte {
	if len(l) == 0 {
		return append(dst, "NIL"...)
	}
	dst = append(dst, '(')
	for i := range l {
		a := &l[i]
		dst = append(dst, '(')
		dst = encNString(dst, a.Name)
		dst = append(dst, ' ')
		dst = encNString(dst, a.ADL)
		dst = append(dst, ' ')
		dst = encNString(dst, a.Mailbox)
		dst = append(dst, ' ')
		dst = encNString(dst, a.Host)
		dst = append(dst, ')')
	}
	return append(dst, ')')
}

// appendBodyStructure appends b in canonical IMAP syntax (RFC 9051 section
// 9, body): with extension data when b.Extended (the BODYSTRUCTURE form),
// without it otherwise (the BODY form). Each part is written by its own
// Extended. A nil b is NIL.
//
// A message/rfc822 or message/global part is written with its envelope,
// body and line count when it has an envelope or a body (a missing envelope
// is written with every field NIL, or as NIL before a multipart body; a
// missing body as NIL); without either it is written as a basic part. Text
// parts always get a line count. A body without children but with
// MultipartParams is a multipart without parts, written as older servers
// send it: ("MIXED" ("BOUNDARY" "x") NIL NIL).
//
// The decoder's tolerances keep this a round trip for every value it
// returns; hand-built values may not survive it.
func appendBodyStructure(dst []byte, b *BodyStructure) []byte {
	if b == nil {
		return append(dst, "NIL"...)
	}
	dst = append(dst, '(')
	if b.IsMultipart() {
		for _, c := range b.Children {
			if c != nil {
				dst = appendBodyStructure(dst, c)
			}
		}
		dst = append(dst, ' ')
		dst = encNString(dst, b.Subtype)
		if b.Extended {
			dst = append(dst, ' ')
			dst = msgAppendParams(dst, b.MultipartParams)
			dst = msgAppendExtTail(dst, b)
		}
		return append(dst, ')')
	}
	if len(b.MultipartParams) > 0 && b.Extended {
		// A multipart without parts (older servers): its subtype where a
		// type belongs, then its extension data.
		dst = encNString(dst, b.Subtype)
		dst = append(dst, ' ')
		dst = msgAppendParams(dst, b.MultipartParams)
		dst = msgAppendExtTail(dst, b)
		return append(dst, ')')
	}
	dst = encNString(dst, b.Type)
	dst = append(dst, ' ')
	dst = encNString(dst, b.Subtype)
	dst = append(dst, ' ')
	dst = msgAppendParams(dst, b.Params)
	dst = append(dst, ' ')
	dst = encNString(dst, b.ID)
	dst = append(dst, ' ')
	dst = encNString(dst, b.Description)
	dst = append(dst, ' ')
	dst = encNString(dst, b.Encoding)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, b.Size, 10)
	switch {
	case msgIsMessage(b.Type, b.Subtype):
		if b.Envelope == nil && b.Body == nil {
			break
		}
		dst = append(dst, ' ')
		if b.Envelope != nil || b.Body != nil && b.Body.IsMultipart() {
			// A NIL envelope before a multipart body is how older
			// servers send it; the decoder reads it back as nil.
			dst = appendEnvelope(dst, b.Envelope)
		} else {
			dst = append(dst, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"...)
		}
		dst = append(dst, ' ')
		dst = appendBodyStructure(dst, b.Body)
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, b.Lines, 10)
	case eqFold(b.Type, "text"):
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, b.Lines, 10)
	}
	if b.Extended {
		dst = append(dst, ' ')
		dst = encNString(dst, b.MD5)
		dst = msgAppendExtTail(dst, b)
	}
	return append(dst, ')')
}

// msgAppendExtTail appends " dsp lang loc [extension]".
func msgAppendExtTail(dst []byte, b *BodyStructure) []byte {
	dst = append(dst, ' ')
	if b.Disposition == nil && b.DispositionParams == nil {
		dst = append(dst, "NIL"...)
	} else {
		dst = append(dst, '(')
		dst = encNString(dst, b.Disposition)
		dst = append(dst, ' ')
		dst = msgAppendParams(dst, b.DispositionParams)
		dst = append(dst, ')')
	}
	dst = append(dst, ' ')
	switch {
	case len(b.Language) == 0:
		dst = append(dst, "NIL"...)
	case len(b.Language) == 1 && b.Language[0] != nil:
		dst = encNString(dst, b.Language[0])
	default:
		dst = append(dst, '(')
		for i, l := range b.Language {
			if i > 0 {
				dst = append(dst, ' ')
			}
			dst = encNString(dst, l)
		}
		dst = append(dst, ')')
	}
	dst = append(dst, ' ')
	dst = encNString(dst, b.Location)
	if len(b.Extension) > 0 {
		dst = append(dst, ' ')
		dst = append(dst, b.Extension...)
	}
	return dst
}

// msgAppendParams appends a body-fld-param; an empty list is NIL.
func msgAppendParams(dst []byte, ps []Param) []byte {
	if len(ps) == 0 {
		return append(dst, "NIL"...)
	}
	dst = append(dst, '(')
	for i, p := range ps {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = encNString(dst, p.Name)
		dst = append(dst, ' ')
		dst = encNString(dst, p.Value)
	}
	return append(dst, ')')
}
