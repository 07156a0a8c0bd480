package codec

// fetchResp decodes the attribute list of "* n FETCH".
func (d *Decoder) fetchResp(seq uint32) (Response, error) {
	t := d.t
	f := &d.fw.fetch
	flags, labels, sections, sizes, unknown := f.Flags[:0], f.GmailLabels[:0], f.Sections[:0], f.BinarySizes[:0], f.Unknown[:0]
	*f = Fetch{Seq: seq, Flags: flags, GmailLabels: labels, Sections: sections, BinarySizes: sizes, Unknown: unknown}
	if err := t.SP(); err != nil {
		return nil, err
	}
	err := d.list(false, func() error {
		c, ok := t.PeekBuffered()
		if !ok {
			var err error
			if c, err = t.Peek(); err != nil {
				return err
			}
		}
		if c == '(' {
			// Domino wraps attributes in a second pair of parentheses:
			// "(UID 5 (ENVELOPE (...)) FLAGS ())". One level only: no
			// recursion.
			return d.list(false, func() error {
				return d.fetchAttNamed(f)
			})
		}
		return d.fetchAttNamed(f)
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// fetchAttNamed reads an attribute name and decodes the attribute.
func (d *Decoder) fetchAttNamed(f *Fetch) error {
	name, err := d.t.Atom()
	if err != nil {
		return err
	}
	return d.fetchAtt(f, name)
}

// fetchAtt decodes one attribute whose name was just read.
func (d *Decoder) fetchAtt(f *Fetch, name []byte) error {
	t := d.t
	// Sections: BODY[, BINARY[, BINARY.SIZE[ have no SP before "[".
	if c, err := t.Peek(); err != nil {
		return err
	} else if c == '[' {
		switch {
		case eqFold(name, "BODY"):
			return d.section(f, SectionBody)
		case eqFold(name, "BINARY"):
			return d.section(f, SectionBinary)
		case eqFold(name, "BINARY.SIZE"):
			return d.binarySize(f)
		}
		return d.unknownAtt(f, name)
	}
	if err := t.SP(); err != nil {
		return err
	}
	var err error
	switch len(name) {
	case 3:
		if eqFold(name, "UID") {
			f.Has |= FetchUID
			if f.UID, err = d.num32(); err == nil && f.UID == 0 {
				// A UID is an nz-number: 0 would match no message and
				// could stand for "none" in a caller's map.
				err = errSyntax("UID 0")
			}
			return err
		}
	case 4:
		if eqFold(name, "BODY") {
			f.Has |= FetchBodyStructure
			f.BodyStructure, err = d.readBodyStructure(false)
			return err
		}
	case 5:
		if eqFold(name, "FLAGS") {
			f.Has |= FetchFlags
			f.Flags, err = d.flagList(f.Flags)
			return err
		}
	case 6:
		switch {
		case eqFold(name, "MODSEQ"):
			f.Has |= FetchModSeq
			if err := t.Expect('('); err != nil {
				return err
			}
			n, err := d.signed()
			if err != nil {
				return err
			}
			if n > 0 { // Zoho sends MODSEQ (-1): treat as unknown (0)
				f.ModSeq = uint64(n)
			}
			return t.Expect(')')
		case eqFold(name, "RFC822"):
			return d.sectionBody(f, Section{Kind: SectionRFC822})
		}
	case 7:
		switch {
		case eqFold(name, "EMAILID"):
			f.Has |= FetchEmailID
			f.EmailID, err = d.objectID()
			return err
		case eqFold(name, "PREVIEW"):
			f.Has |= FetchPreview
			// The draft form had a list of modifiers first.
			if c, err := t.Peek(); err != nil {
				return err
			} else if c == '(' {
				if _, err := d.rawValue(); err != nil {
					return err
				}
				if err := t.SP(); err != nil {
					return err
				}
			}
			f.Preview, err = d.nstring()
			return err
		}
	case 8:
		switch {
		case eqFold(name, "ENVELOPE"):
			f.Has |= FetchEnvelope
			f.Envelope, err = d.readEnvelope()
			return err
		case eqFold(name, "THREADID"):
			f.Has |= FetchThreadID
			if ok, err := t.AcceptNIL(); err != nil || ok {
				return err
			}
			f.ThreadID, err = d.objectID()
			return err
		case eqFold(name, "SAVEDATE"):
			f.Has |= FetchSaveDate
			f.SaveDate, err = d.nstring()
			return err
		}
	case 10:
		switch {
		case eqFold(name, "X-GM-MSGID"):
			f.Has |= FetchGmailMsgID
			f.GmailMsgID, err = t.Number()
			return err
		case eqFold(name, "X-GM-THRID"):
			f.Has |= FetchGmailThreadID
			f.GmailThreadID, err = t.Number()
			return err
		}
	case 11:
		if eqFold(name, "RFC822.SIZE") {
			f.Has |= FetchRFC822Size
			f.RFC822Size, err = d.signed()
			return err
		}
		if eqFold(name, "RFC822.TEXT") {
			return d.sectionBody(f, Section{Kind: SectionRFC822Text})
		}
		if eqFold(name, "X-GM-LABELS") {
			f.Has |= FetchGmailLabels
			f.GmailLabels = f.GmailLabels[:0] // sent twice: the last list, as FLAGS
			return d.list(false, func() error {
				var l []byte
				c, err := t.Peek()
				if err != nil {
					return err
				}
				if c == '"' || c == '{' {
					l, err = t.String()
				} else {
					l, err = t.Flag()
				}
				f.GmailLabels = append(f.GmailLabels, Bytes(l))
				return err
			})
		}
	case 12:
		if eqFold(name, "INTERNALDATE") {
			f.Has |= FetchInternalDate
			f.InternalDate, err = d.nstring()
			return err
		}
	case 13:
		if eqFold(name, "BODYSTRUCTURE") {
			f.Has |= FetchBodyStructure
			f.BodyStructure, err = d.readBodyStructure(true)
			return err
		}
		if eqFold(name, "RFC822.HEADER") {
			return d.sectionBody(f, Section{Kind: SectionRFC822Header})
		}
	}
	return d.unknownAttValue(f, name)
}

// objectID reads "(" objectid ")" (RFC 8474).
func (d *Decoder) objectID() (Bytes, error) {
	t := d.t
	if err := t.Expect('('); err != nil {
		return nil, err
	}
	id, err := t.Atom()
	if err != nil {
		return nil, err
	}
	return Bytes(id), t.Expect(')')
}

// unknownAtt keeps an unknown attribute with a bracketed part raw.
func (d *Decoder) unknownAtt(f *Fetch, name []byte) error {
	t := d.t
	if err := t.Expect('['); err != nil {
		return err
	}
	for {
		c, err := t.Peek()
		if err != nil {
			return err
		}
		if c == ']' {
			break
		}
		if _, err := d.rawValue(); err != nil {
			return err
		}
		if err := d.skipSpaces(); err != nil {
			return err
		}
	}
	t.Expect(']')
	if err := t.SP(); err != nil {
		return err
	}
	return d.unknownAttValue(f, name)
}

// unknownAttValue keeps the value of an unknown attribute raw.
func (d *Decoder) unknownAttValue(f *Fetch, name []byte) error {
	v, err := d.rawValue()
	if err != nil {
		return err
	}
	f.Unknown = append(f.Unknown, FetchAttr{Name: Bytes(name), Raw: v})
	return nil
}

// section decodes "[" section "]" ["<" origin ">"] SP body.
func (d *Decoder) section(f *Fetch, kind SectionKind) error {
	t := d.t
	s := d.newSection(f)
	s.Kind = kind
	if err := t.Expect('['); err != nil {
		return err
	}
	if err := d.sectionSpec(s); err != nil {
		return err
	}
	if c, err := t.Peek(); err != nil {
		return err
	} else if c == '<' {
		start, _, _, err := t.Partial()
		if err != nil {
			return err
		}
		if start > 1<<32-1 {
			return errSyntax("origin overflows 32 bits")
		}
		s.Origin, s.HasOrigin = uint32(start), true
	}
	switch c, err := t.Peek(); {
	case err != nil:
		return err
	case c == '{':
		// "BODY[HEADER.FIELDS (MESSAGE-ID)]{10}": the literal follows
		// the section without a space (Trojita's tests).
	case c == ')':
		// "BODY[2])": no value at all (see sectionData).
	default:
		if err := t.SP(); err != nil {
			return err
		}
	}
	return d.sectionData(f, s)
}

// newSection appends a Section to f, reusing the memory of an earlier one.
func (d *Decoder) newSection(f *Fetch) *Section {
	if len(f.Sections) < cap(f.Sections) {
		f.Sections = f.Sections[:len(f.Sections)+1]
		s := &f.Sections[len(f.Sections)-1]
		part, fields := s.Part[:0], s.Fields[:0]
		*s = Section{Part: part, Fields: fields}
		return s
	}
	f.Sections = append(f.Sections, Section{})
	return &f.Sections[len(f.Sections)-1]
}

// sectionBody handles RFC822, RFC822.HEADER and RFC822.TEXT.
func (d *Decoder) sectionBody(f *Fetch, sec Section) error {
	s := d.newSection(f)
	s.Kind = sec.Kind
	return d.sectionData(f, s)
}

// sectionSpec reads the section specification up to and including "]".
func (d *Decoder) sectionSpec(s *Section) error {
	t := d.t
	m := t.Mark()
	if ok, err := t.Accept(']'); err != nil || ok {
		s.Spec = Bytes{}
		return err
	}
	a, err := t.Atom()
	if err != nil {
		return err
	}
	// Part numbers, then an optional specifier.
	rest := a
	for len(rest) > 0 && rest[0] >= '0' && rest[0] <= '9' {
		i := 0
		var n uint64
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			n = n*10 + uint64(rest[i]-'0')
			if n > 1<<32-1 {
				return errSyntax("section part overflows 32 bits")
			}
			i++
		}
		s.Part = append(s.Part, uint32(n))
		rest = rest[i:]
		if len(rest) > 0 {
			if rest[0] != '.' {
				return errSyntax("bad section part")
			}
			rest = rest[1:]
		}
	}
	s.Specifier = Bytes(rest)
	if eqFold(rest, "HEADER.FIELDS") || eqFold(rest, "HEADER.FIELDS.NOT") {
		if err := t.SP(); err != nil {
			return err
		}
		err := d.list(false, func() error {
			h, err := t.AString()
			s.Fields = append(s.Fields, Bytes(h))
			return err
		})
		if err != nil {
			return err
		}
	}
	spec, err := t.Since(m)
	if err != nil {
		return err
	}
	s.Spec = Bytes(spec)
	return t.Expect(']')
}

// sectionData reads a section's body: NIL, a quoted string or a literal,
// which goes to the SectionHandler when there is one. Two tolerances: an
// atom is taken as a string ("* 123 FETCH (rfc822.tExt abcdEf)"), and a
// section with no value before the closing parenthesis (Yandex:
// "BODY[2] )") is kept empty and Missing.
func (d *Decoder) sectionData(f *Fetch, s *Section) error {
	t := d.t
	c, err := t.Peek()
	if err != nil {
		return err
	}
	switch c {
	case '{', '~':
	case ')':
		s.Data, s.Missing = Bytes{}, true
		return nil
	case '"':
		s.Data, err = d.nstring()
		s.Size = int64(len(s.Data))
		return err
	default:
		if ok, err := t.AcceptNIL(); err != nil || ok {
			return err
		}
		b, err := t.AString()
		if err != nil {
			return err
		}
		s.Data, s.Size = Bytes(b), int64(len(b))
		return nil
	}
	info, err := t.Literal()
	if err != nil {
		return err
	}
	s.Size = info.Size
	if h := d.opts.SectionHandler; h != nil {
		r, err := t.LiteralReader()
		if err != nil {
			return err
		}
		s.Streamed = true
		err = h(f, s, r)
		if err == nil {
			return nil
		}
		if err != ErrKeepInline {
			return &handlerError{err}
		}
		s.Streamed = false
	}
	b, err := t.LiteralBytes()
	if err != nil {
		return err
	}
	s.Data = Bytes(b)
	return nil
}

// binarySize decodes BINARY.SIZE[part] SP number.
func (d *Decoder) binarySize(f *Fetch) error {
	t := d.t
	if err := t.Expect('['); err != nil {
		return err
	}
	var bs BinarySize
	if len(f.BinarySizes) < cap(f.BinarySizes) {
		bs.Part = f.BinarySizes[:len(f.BinarySizes)+1][len(f.BinarySizes)].Part[:0]
	}
	if ok, err := t.Accept(']'); err != nil {
		return err
	} else if !ok {
		b, err := t.Atom()
		if err != nil {
			return err
		}
		for len(b) > 0 {
			var n uint64
			i := 0
			for i < len(b) && b[i] >= '0' && b[i] <= '9' {
				n = n*10 + uint64(b[i]-'0')
				if n > 1<<32-1 {
					return errSyntax("section part overflows 32 bits")
				}
				i++
			}
			if i == 0 || (i < len(b) && b[i] != '.') {
				return errSyntax("bad BINARY.SIZE section")
			}
			bs.Part = append(bs.Part, uint32(n))
			if i < len(b) {
				i++
			}
			b = b[i:]
		}
		if err := t.Expect(']'); err != nil {
			return err
		}
	}
	if err := t.SP(); err != nil {
		return err
	}
	n, err := t.Number()
	if err != nil {
		return err
	}
	bs.Size = n
	f.BinarySizes = append(f.BinarySizes, bs)
	return nil
}
